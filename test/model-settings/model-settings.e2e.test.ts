import { Provider } from '../../src/catalog/catalog';
import { preparedQuery } from '../../src/database/prepared';
import { WALK_OF_FEW, walkParameters } from '../../src/model-settings/model-settings.repository';
import { FEW_ORGANIZATIONS, MEMBERSHIPS_OF_USER } from '../../src/organizations/organization.repository';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeChain, makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole, tenantMaker } from '../support/factories';
import { type GraphQLResponse, OPERATOR, startTestServer, type TestServer } from '../support/test-server';

/**
 * Model settings, inheritance and effective models over real HTTP on a real database
 * (DESIGN.md sections 3 and 5). Connections are made by factories: no key check is involved.
 */

const UPDATE = `mutation($input: UpdateModelSettingsInput!) {
  updateModelSettings(input: $input) {
    settings { primaryModel { id } fallbackModel { id } exclusive offerToSubOrganizations version updatedAt updatedBy }
    effectiveModels { source exclusive primary { model { id } billing connectionOwner { id } } fallback { model { id } billing } }
    warnings
    inheritingSubOrganizations
  }
}`;
const CLEAR = `mutation($input: ClearModelSettingsInput!) { clearModelSettings(input: $input) { id effectiveModels { source } } }`;
const EFFECTIVE = `query($id: ID!) {
  organization(id: $id) {
    effectiveModels {
      source exclusive
      inheritedFrom { id name }
      primary { model { id } billing connectionOwner { id name } }
      fallback { model { id } billing connectionOwner { id name } }
      availableModels { model { id } billing connectionOwner { id } }
    }
  }
}`;
const SETTINGS = `query($id: ID!) { organization(id: $id) { modelSettings { primaryModel { id } fallbackModel { id } exclusive offerToSubOrganizations version updatedBy } } }`;
const DISCONNECT = `mutation($input: DisconnectProviderInput!) { disconnectProvider(input: $input) }`;
const MOVE = `mutation($input: MoveOrganizationInput!) { moveOrganization(input: $input) { id } }`;

interface Effective {
  source: string;
  exclusive: boolean;
  inheritedFrom: { id: string; name: string } | null;
  primary: { model: { id: string }; billing: string; connectionOwner: { id: string; name: string } | null };
  fallback: { model: { id: string }; billing: string; connectionOwner: { id: string; name: string } | null } | null;
  availableModels: { model: { id: string }; billing: string; connectionOwner: { id: string } | null }[];
}

describe('model settings and effective models', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const tenant = tenantMaker(() => server.dataSource, 'Tenant');

  const update = (as: string | typeof OPERATOR, input: Record<string, unknown>) => server.graphql(UPDATE, { as, variables: { input } });
  const effectiveOf = async (organization: OrganizationEntity): Promise<Effective> => {
    const result = await server.graphql(EFFECTIVE, { as: OPERATOR, variables: { id: organization.id } });
    expect(result.errors).toBeUndefined();
    return result.data?.organization.effectiveModels;
  };
  /** [primary, fallback, source, giver name] of an organization, compactly. */
  const pairOf = async (organization: OrganizationEntity) => {
    const effective = await effectiveOf(organization);
    return [effective.primary.model.id, effective.fallback?.model.id ?? null, effective.source, effective.inheritedFrom?.name ?? null];
  };
  const storedSettings = (organization: OrganizationEntity) =>
    server.dataSource.query('SELECT primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, version FROM model_settings WHERE organization_id = $1', [
      organization.id,
    ]);
  const auditActions = async (organization: OrganizationEntity): Promise<string[]> =>
    (await server.dataSource.query('SELECT action FROM audit_event WHERE organization_id = $1 ORDER BY position', [organization.id])).map(
      (row: { action: string }) => row.action,
    );

  describe('updateModelSettings', () => {
    it('stores the settings, answers the new effective models, and audits the change', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });

      const result = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' });

      expect(result.errors).toBeUndefined();
      const payload = result.data?.updateModelSettings;
      expect(payload.settings).toMatchObject({
        primaryModel: { id: 'claude-sonnet-4-6' },
        fallbackModel: { id: 'gpt-5.4' },
        exclusive: false,
        offerToSubOrganizations: false,
        version: 1,
        updatedBy: admin,
      });
      expect(payload.effectiveModels).toEqual({
        source: 'OWN',
        exclusive: false,
        primary: { model: { id: 'claude-sonnet-4-6' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: organization.id } },
        fallback: { model: { id: 'gpt-5.4' }, billing: 'PROVIDER_ACCOUNT' },
      });
      expect(payload.warnings).toEqual([]);
      expect(payload.inheritingSubOrganizations).toBe(0);
      expect(await storedSettings(organization)).toEqual([
        { primary_model_id: 'claude-sonnet-4-6', fallback_model_id: 'gpt-5.4', exclusive: false, offer_to_sub_organizations: false, version: 1 },
      ]);
      const [event] = await server.dataSource.query(
        `SELECT actor_id, before, after FROM audit_event WHERE organization_id = $1 AND action = 'MODEL_SETTINGS_UPDATED'`,
        [organization.id],
      );
      expect(event).toEqual({
        actor_id: admin,
        before: null,
        after: { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4', exclusive: false, offerToSubOrganizations: false, version: 1 },
      });
    });

    it('replaces the settings whole and counts the version up, with before and after in the audit log', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4', exclusive: true });

      const result = await update(admin, { organizationId: organization.id, primaryModelId: 'gpt-5-mini', expectedVersion: 1 });

      expect(result.errors).toBeUndefined();
      expect(result.data?.updateModelSettings.settings).toMatchObject({ primaryModel: { id: 'gpt-5-mini' }, fallbackModel: null, exclusive: false, version: 2 });
      const events = await server.dataSource.query(
        `SELECT before, after FROM audit_event WHERE organization_id = $1 AND action = 'MODEL_SETTINGS_UPDATED' ORDER BY position`,
        [organization.id],
      );
      expect(events[1]).toEqual({
        before: { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4', exclusive: true, offerToSubOrganizations: false, version: 1 },
        after: { primaryModelId: 'gpt-5-mini', fallbackModelId: null, exclusive: false, offerToSubOrganizations: false, version: 2 },
      });
    });

    it('warns about models without AGENT_TOOLS and a fallback lacking a capability of the primary', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });

      const result = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-haiku-4-5', fallbackModelId: 'gpt-5-nano' });

      expect(result.errors).toBeUndefined();
      expect(result.data?.updateModelSettings.warnings).toEqual([
        expect.stringMatching(/primary model claude-haiku-4-5 lacks AGENT_TOOLS/),
        expect.stringMatching(/fallback model gpt-5-nano lacks AGENT_TOOLS/),
        expect.stringMatching(/fallback model gpt-5-nano lacks VISION, FILE_UPLOADS of the primary model claude-haiku-4-5/),
      ]);
    });

    it('counts the descendants that now inherit, passing over those with settings of their own', async () => {
      const { organization: root, admin } = await tenant({ providers: [Provider.ANTHROPIC] });
      const { organization: a } = await tenant({ parent: root });
      await tenant({ parent: a }); // inherits
      const { organization: ownButNotOffering } = await tenant({ parent: root, providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, ownButNotOffering, { primaryModelId: 'gpt-5.4' });
      await tenant({ parent: ownButNotOffering }); // inherits from root, passing over its parent
      const { organization: offering } = await tenant({ parent: root, providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, offering, { primaryModelId: 'gpt-5.4', offerToSubOrganizations: true });
      await tenant({ parent: offering }); // inherits from `offering`, not from root

      const result = await update(admin, { organizationId: root.id, primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: true });

      expect(result.errors).toBeUndefined();
      expect(result.data?.updateModelSettings.inheritingSubOrganizations).toBe(3);
    });

    describe('refuses bad input with a coded error and changes nothing', () => {
      it.each([
        ['an alias as primary', { primaryModelId: 'sonnet' }, 'BAD_USER_INPUT', 'primaryModelId', /'sonnet' is an alias.*valid ids: claude-opus-4-6, claude-sonnet-4-6, claude-haiku-4-5, gpt-5.4, gpt-5-mini, gpt-5-nano/],
        ['an unknown primary', { primaryModelId: 'claude-3-opus' }, 'BAD_USER_INPUT', 'primaryModelId', /valid ids: claude-opus-4-6/],
        ['an alias as fallback', { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'mini' }, 'BAD_USER_INPUT', 'fallbackModelId', /'mini' is an alias/],
        ['an empty fallback (null means none)', { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: '' }, 'BAD_USER_INPUT', 'fallbackModelId', /valid ids: claude-opus-4-6/],
        ['a fallback equal to the primary', { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'claude-sonnet-4-6' }, 'BAD_USER_INPUT', 'fallbackModelId', /must differ/],
        ['a primary on an unconnected provider', { primaryModelId: 'gpt-5.4' }, 'MODEL_NOT_AVAILABLE', 'primaryModelId', /connect OpenAI first/],
        ['a fallback on an unconnected provider', { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5-mini' }, 'MODEL_NOT_AVAILABLE', 'fallbackModelId', /connect OpenAI first/],
        ['an offer without sub-organizations', { primaryModelId: 'claude-sonnet-4-6', offerToSubOrganizations: true }, 'NOT_A_PARENT', 'offerToSubOrganizations', /no sub-organizations/],
        ['a negative expectedVersion', { primaryModelId: 'claude-sonnet-4-6', expectedVersion: -1 }, 'BAD_USER_INPUT', 'expectedVersion', /zero/],
        ['a stale expectedVersion', { primaryModelId: 'claude-opus-4-6', expectedVersion: 7 }, 'CONFLICT', 'expectedVersion', /version 1, not 7/],
      ])('%s', async (_case, input, code, field, message) => {
        const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC] });
        await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-haiku-4-5' });
        const before = { settings: await storedSettings(organization), audit: await auditActions(organization) };

        const result = await update(admin, { organizationId: organization.id, ...input });

        expect(result.data).toBeNull();
        expect(result.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code, field }) })]);
        expect(result.errors?.[0].message).toMatch(message);
        expect({ settings: await storedSettings(organization), audit: await auditActions(organization) }).toEqual(before);
      });

      it('names the provider to connect in MODEL_NOT_AVAILABLE', async () => {
        const { organization, admin } = await tenant({ providers: [Provider.OPENAI] });

        const result = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6' });

        expect(result.errors?.[0].extensions).toEqual({ code: 'MODEL_NOT_AVAILABLE', field: 'primaryModelId', model: 'claude-opus-4-6', provider: 'ANTHROPIC' });
      });

      it('CONFLICT for expectedVersion 0 when settings exist, and for a version when there are none', async () => {
        const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC] });

        const stale = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6', expectedVersion: 1 });
        expect(stale.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', expectedVersion: 1, currentVersion: 0 });

        const created = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6', expectedVersion: 0 });
        expect(created.errors).toBeUndefined();
        const again = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', expectedVersion: 0 });
        expect(again.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', expectedVersion: 0, currentVersion: 1 });
        expect(await storedSettings(organization)).toEqual([expect.objectContaining({ primary_model_id: 'claude-opus-4-6', version: 1 })]);
      });
    });

    it('lets exactly one of 20 concurrent updates with the same expectedVersion win; the others get CONFLICT', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6' });
      const candidates = ['claude-opus-4-6', 'claude-haiku-4-5', 'gpt-5.4', 'gpt-5-mini', 'gpt-5-nano'];

      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          update(admin, { organizationId: organization.id, primaryModelId: candidates[index % candidates.length], expectedVersion: 1 }),
        ),
      );

      const winners = results.filter((result) => !result.errors);
      const codes = results.filter((result) => result.errors).map((result) => result.errors?.[0].extensions.code);
      expect(winners).toHaveLength(1);
      expect(codes).toEqual(Array.from({ length: 19 }, () => 'CONFLICT'));
      const winner = winners[0].data?.updateModelSettings.settings;
      expect(winner.version).toBe(2);
      expect(await storedSettings(organization)).toEqual([expect.objectContaining({ primary_model_id: winner.primaryModel.id, version: 2 })]);
      expect((await auditActions(organization)).filter((action) => action === 'MODEL_SETTINGS_UPDATED')).toHaveLength(2);
    });

    it('lets exactly one of 20 concurrent first updates with expectedVersion 0 create the settings', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC] });

      const results = await Promise.all(
        Array.from({ length: 20 }, () => update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6', expectedVersion: 0 })),
      );

      expect(results.filter((result) => !result.errors)).toHaveLength(1);
      expect(results.filter((result) => result.errors?.[0].extensions.code === 'CONFLICT')).toHaveLength(19);
      expect(await auditActions(organization)).toEqual(['MODEL_SETTINGS_UPDATED']);
    });
  });

  describe('modelSettings', () => {
    it('shows an admin the organization\'s own settings, and null when it has none', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC] });
      const none = await server.graphql(SETTINGS, { as: admin, variables: { id: organization.id } });
      expect(none.errors).toBeUndefined();
      expect(none.data?.organization.modelSettings).toBeNull();

      await update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6', fallbackModelId: 'claude-haiku-4-5', exclusive: true });
      const some = await server.graphql(SETTINGS, { as: admin, variables: { id: organization.id } });

      expect(some.data?.organization.modelSettings).toEqual({
        primaryModel: { id: 'claude-opus-4-6' },
        fallbackModel: { id: 'claude-haiku-4-5' },
        exclusive: true,
        offerToSubOrganizations: false,
        version: 1,
        updatedBy: admin,
      });
    });
  });

  describe('clearModelSettings', () => {
    it('removes the settings, so the organization inherits again, and audits it', async () => {
      const { organization: parent } = await tenant({ providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'gpt-5.4', offerToSubOrganizations: true });
      const { organization, admin } = await tenant({ parent, providers: [Provider.ANTHROPIC] });
      await update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6' });
      expect(await pairOf(organization)).toEqual(['claude-opus-4-6', null, 'OWN', null]);

      const result = await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id } } });

      expect(result.errors).toBeUndefined();
      expect(result.data?.clearModelSettings).toEqual({ id: organization.id, effectiveModels: { source: 'INHERITED' } });
      expect(await storedSettings(organization)).toEqual([]);
      expect(await pairOf(organization)).toEqual(['gpt-5.4', null, 'INHERITED', parent.name]);
      expect(await auditActions(organization)).toEqual(['MODEL_SETTINGS_UPDATED', 'MODEL_SETTINGS_CLEARED']);
    });

    it('changes nothing and audits nothing when there is nothing to clear', async () => {
      const { organization, admin } = await tenant();

      const result = await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id } } });

      expect(result.errors).toBeUndefined();
      expect(result.data?.clearModelSettings.effectiveModels).toEqual({ source: 'PLATFORM' });
      expect(await auditActions(organization)).toEqual([]);
    });

    it('refuses a stale expectedVersion with CONFLICT and keeps the settings', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6' });

      const result = await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id, expectedVersion: 2 } } });

      expect(result.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 1 });
      expect(await storedSettings(organization)).toHaveLength(1);
    });

    it('never gives settings made after a clear a version that earlier settings had: a page that read those cannot save over the new ones', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      const first = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6', expectedVersion: 0 });
      expect(first.data?.updateModelSettings.settings.version).toBe(1);
      const second = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', expectedVersion: 1 });
      expect(second.data?.updateModelSettings.settings.version).toBe(2);
      // A page read version 2; another admin clears the settings and sets new ones.
      expect((await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id, expectedVersion: 2 } } })).errors).toBeUndefined();
      const again = await update(admin, { organizationId: organization.id, primaryModelId: 'gpt-5.4', expectedVersion: 0 });
      expect(again.errors).toBeUndefined();
      const renewed = again.data?.updateModelSettings.settings.version;
      expect(renewed).toBe(3);
      const audit = await auditActions(organization);

      // The page saves what it started from version 2 on, and clears with it: both refused.
      const stale = await update(admin, { organizationId: organization.id, primaryModelId: 'claude-haiku-4-5', expectedVersion: 2 });
      expect(stale.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 3 });
      const staleClear = await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id, expectedVersion: 2 } } });
      expect(staleClear.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 3 });
      expect(await storedSettings(organization)).toEqual([{ primary_model_id: 'gpt-5.4', fallback_model_id: null, exclusive: false, offer_to_sub_organizations: false, version: 3 }]);
      expect(await auditActions(organization)).toEqual(audit);

      // Cleared and made again, without expectedVersion: still a version of its own.
      expect((await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id } } })).errors).toBeUndefined();
      expect((await update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6' })).data?.updateModelSettings.settings.version).toBe(4);
    });

    it('gives every settings made while clears run concurrently a version of its own', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC] });
      const clear = () => server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id } } });
      const versions: number[] = [];
      for (let round = 0; round < 8; round += 1) {
        const answers = await Promise.all([
          update(admin, { organizationId: organization.id, primaryModelId: 'claude-opus-4-6' }),
          clear(),
          update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6' }),
          clear(),
        ]);
        expect(answers.flatMap((answer) => answer.errors ?? [])).toEqual([]);
        versions.push(answers[0].data?.updateModelSettings.settings.version, answers[2].data?.updateModelSettings.settings.version);
      }
      expect(versions.every((version) => Number.isInteger(version) && version > 0)).toBe(true);
      expect(new Set(versions).size).toBe(versions.length);
    });

    it('refuses a negative expectedVersion as bad input, as updateModelSettings does, and keeps the settings', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6' });
      const before = { settings: await storedSettings(organization), audit: await auditActions(organization) };

      const result = await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id, expectedVersion: -1 } } });

      expect(result.errors?.map((error) => error.extensions)).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'expectedVersion' })]);
      expect({ settings: await storedSettings(organization), audit: await auditActions(organization) }).toEqual(before);
    });
  });

  describe('disconnectProvider while models run on the connection', () => {
    const disconnect = (as: string, organizationId: string, provider: string) =>
      server.graphql(DISCONNECT, { as, variables: { input: { organizationId, provider } } });

    it('refuses with CONNECTION_IN_USE listing the primary, the fallback and the inheriting sub-organizations', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI], name: 'Giver' });
      const heirOne = await tenant({ parent: organization, name: 'Heir One' });
      const heirTwo = await tenant({ parent: organization, name: 'Heir Two' });
      await update(admin, { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'claude-haiku-4-5', offerToSubOrganizations: true });

      const result = await disconnect(admin, organization.id, 'ANTHROPIC');

      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions).toEqual({
        code: 'CONNECTION_IN_USE',
        provider: 'ANTHROPIC',
        dependents: [
          'the primary model claude-sonnet-4-6',
          'the fallback model claude-haiku-4-5',
          '2 sub-organization(s) inheriting that pair: Heir One, Heir Two',
        ],
        uses: [
          { organizationId: organization.id, organizationName: 'Giver', role: 'PRIMARY', modelId: 'claude-sonnet-4-6', source: 'OWN' },
          { organizationId: organization.id, organizationName: 'Giver', role: 'FALLBACK', modelId: 'claude-haiku-4-5', source: 'OWN' },
          { organizationId: heirOne.organization.id, organizationName: 'Heir One', role: 'PRIMARY', modelId: 'claude-sonnet-4-6', source: 'INHERITED' },
          { organizationId: heirOne.organization.id, organizationName: 'Heir One', role: 'FALLBACK', modelId: 'claude-haiku-4-5', source: 'INHERITED' },
          { organizationId: heirTwo.organization.id, organizationName: 'Heir Two', role: 'PRIMARY', modelId: 'claude-sonnet-4-6', source: 'INHERITED' },
          { organizationId: heirTwo.organization.id, organizationName: 'Heir Two', role: 'FALLBACK', modelId: 'claude-haiku-4-5', source: 'INHERITED' },
        ],
        inheritingSubOrganizations: 2,
      });
      expect(await server.dataSource.query('SELECT provider FROM provider_connection WHERE organization_id = $1 ORDER BY provider', [organization.id])).toEqual([
        { provider: 'ANTHROPIC' },
        { provider: 'OPENAI' },
      ]);
    });

    it('lets a provider the settings do not use go, and the one they used once they are cleared', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await update(admin, { organizationId: organization.id, primaryModelId: 'gpt-5.4' });

      expect((await disconnect(admin, organization.id, 'ANTHROPIC')).data?.disconnectProvider).toBe(true);
      expect((await disconnect(admin, organization.id, 'OPENAI')).errors?.[0].extensions.code).toBe('CONNECTION_IN_USE');
      await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: organization.id } } });
      expect((await disconnect(admin, organization.id, 'OPENAI')).data?.disconnectProvider).toBe(true);
    });

    it('never leaves settings on a removed connection when an update and a disconnect race', async () => {
      for (let round = 0; round < 5; round += 1) {
        const { organization, admin } = await tenant({ providers: [Provider.OPENAI] });

        const [updated, disconnected] = await Promise.all([
          update(admin, { organizationId: organization.id, primaryModelId: 'gpt-5.4' }),
          disconnect(admin, organization.id, 'OPENAI'),
        ]);

        const settings = await storedSettings(organization);
        const connections = await server.dataSource.query('SELECT provider FROM provider_connection WHERE organization_id = $1', [organization.id]);
        // Either the update won (and the disconnect saw it), or the disconnect won (and the update saw no connection).
        if (updated.errors) {
          expect(updated.errors[0].extensions.code).toBe('MODEL_NOT_AVAILABLE');
          expect(disconnected.data?.disconnectProvider).toBe(true);
          expect({ settings, connections }).toEqual({ settings: [], connections: [] });
        } else {
          expect(disconnected.errors?.[0].extensions.code).toBe('CONNECTION_IN_USE');
          expect({ settings: settings.length, connections }).toEqual({ settings: 1, connections: [{ provider: 'OPENAI' }] });
        }
      }
    });
  });

  describe('inheritance, read through effectiveModels', () => {
    it('gives an organization with settings its own pair (own)', async () => {
      const { organization } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6', fallbackModelId: 'claude-haiku-4-5' });

      expect(await pairOf(organization)).toEqual(['claude-opus-4-6', 'claude-haiku-4-5', 'OWN', null]);
    });

    it('gives a sub-organization its parent\'s pair when offered, carried by the parent\'s connection (inherited)', async () => {
      const { organization: parent } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI], name: 'Offering parent' });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4', offerToSubOrganizations: true });
      const { organization: child } = await tenant({ parent });

      const effective = await effectiveOf(child);

      expect(effective.source).toBe('INHERITED');
      expect(effective.inheritedFrom).toEqual({ id: parent.id, name: 'Offering parent' });
      expect(effective.primary).toEqual({ model: { id: 'claude-sonnet-4-6' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id, name: 'Offering parent' } });
      expect(effective.fallback).toEqual({ model: { id: 'gpt-5.4' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id, name: 'Offering parent' } });
      expect(effective.availableModels.slice(0, 2)).toEqual([
        { model: { id: 'claude-sonnet-4-6' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id } },
        { model: { id: 'gpt-5.4' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id } },
      ]);
      expect(effective.availableModels.slice(2).every((option) => option.billing === 'PLATFORM_CREDITS' && option.connectionOwner === null)).toBe(true);
      expect(effective.availableModels).toHaveLength(6);
    });

    it('passes over an ancestor that has settings but does not offer them', async () => {
      const { organization: root } = await tenant({ providers: [Provider.OPENAI], name: 'Root giver' });
      await makeModelSettings(server.dataSource, root, { primaryModelId: 'gpt-5-mini', offerToSubOrganizations: true });
      const { organization: middle } = await tenant({ parent: root, providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, middle, { primaryModelId: 'claude-opus-4-6', exclusive: true });
      const { organization: leaf } = await tenant({ parent: middle });

      expect(await pairOf(leaf)).toEqual(['gpt-5-mini', null, 'INHERITED', 'Root giver']);
      expect(await pairOf(middle)).toEqual(['claude-opus-4-6', null, 'OWN', null]);
    });

    it('gives the platform pair when nothing applies', async () => {
      const { organization: parent } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'claude-opus-4-6' });
      const { organization: child } = await tenant({ parent, providers: [Provider.ANTHROPIC] });

      const effective = await effectiveOf(child);

      expect([effective.primary.model.id, effective.primary.billing, effective.fallback?.model.id, effective.source]).toEqual([
        'claude-sonnet-4-6',
        'PLATFORM_CREDITS',
        'gpt-5-mini',
        'PLATFORM',
      ]);
      expect(effective.availableModels.map((option) => option.billing)).toEqual(Array.from({ length: 6 }, () => 'PLATFORM_CREDITS'));
    });

    it('changes what a sub-organization inherits at once when its parent clears or stops offering', async () => {
      const { organization: parent, admin } = await tenant({ providers: [Provider.ANTHROPIC] });
      const { organization: child } = await tenant({ parent });
      await update(admin, { organizationId: parent.id, primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: true });
      expect((await pairOf(child))[2]).toBe('INHERITED');

      await update(admin, { organizationId: parent.id, primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: false });
      expect((await pairOf(child))[2]).toBe('PLATFORM');

      await update(admin, { organizationId: parent.id, primaryModelId: 'claude-haiku-4-5', offerToSubOrganizations: true });
      expect(await pairOf(child)).toEqual(['claude-haiku-4-5', null, 'INHERITED', parent.name]);
      await server.graphql(CLEAR, { as: admin, variables: { input: { organizationId: parent.id } } });
      expect((await pairOf(child))[2]).toBe('PLATFORM');
    });

    it('changes what an organization inherits at once when it moves under another parent', async () => {
      const { organization: first } = await tenant({ providers: [Provider.ANTHROPIC], name: 'First parent' });
      await makeModelSettings(server.dataSource, first, { primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: true });
      const { organization: second } = await tenant({ providers: [Provider.OPENAI], name: 'Second parent' });
      await makeModelSettings(server.dataSource, second, { primaryModelId: 'gpt-5.4', fallbackModelId: 'gpt-5-nano', offerToSubOrganizations: true });
      const { organization: mover } = await tenant({ parent: first });
      const { organization: moverChild } = await tenant({ parent: mover });
      expect(await pairOf(moverChild)).toEqual(['claude-opus-4-6', null, 'INHERITED', 'First parent']);

      const moved = await server.graphql(MOVE, { as: OPERATOR, variables: { input: { organizationId: mover.id, parentId: second.id } } });
      expect(moved.errors).toBeUndefined();

      expect(await pairOf(moverChild)).toEqual(['gpt-5.4', 'gpt-5-nano', 'INHERITED', 'Second parent']);

      await server.graphql(MOVE, { as: OPERATOR, variables: { input: { organizationId: mover.id, parentId: null } } });
      expect((await pairOf(moverChild))[2]).toBe('PLATFORM');
    });

    it('inherits from the root of a 20-level chain, and from a new giver in the middle at once', async () => {
      const chain = await makeChain(server.dataSource, 20, 'Deep');
      await makeConnection(server.dataSource, chain[0], Provider.ANTHROPIC);
      await makeModelSettings(server.dataSource, chain[0], { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'claude-haiku-4-5', offerToSubOrganizations: true });

      expect(await pairOf(chain[19])).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5', 'INHERITED', 'Deep 0']);
      expect(await pairOf(chain[1])).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5', 'INHERITED', 'Deep 0']);

      await makeConnection(server.dataSource, chain[9], Provider.OPENAI);
      await makeModelSettings(server.dataSource, chain[9], { primaryModelId: 'gpt-5.4', offerToSubOrganizations: true });
      expect(await pairOf(chain[19])).toEqual(['gpt-5.4', null, 'INHERITED', 'Deep 9']);
      expect(await pairOf(chain[8])).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5', 'INHERITED', 'Deep 0']);
    });

    it('inherits exclusive mode with the pair: only the pair is offered', async () => {
      const { organization: parent } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'claude-opus-4-6', fallbackModelId: 'gpt-5.4', exclusive: true, offerToSubOrganizations: true });
      const { organization: child } = await tenant({ parent, providers: [Provider.OPENAI] });

      const effective = await effectiveOf(child);

      expect(effective.exclusive).toBe(true);
      expect(effective.availableModels).toEqual([
        { model: { id: 'claude-opus-4-6' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id } },
        { model: { id: 'gpt-5.4' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id } },
      ]);
    });

    it('answers effective models for 100 organizations with as many SQL statements as for 1', async () => {
      const { organization: root } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, root, { primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: true });
      const chain = await makeChain(server.dataSource, 5, 'Counted');
      await server.dataSource.query('UPDATE organization SET parent_id = $1 WHERE id = $2', [root.id, chain[0].id]);
      const leaves: OrganizationEntity[] = [];
      for (let index = 0; index < 100; index += 1) leaves.push(await makeOrganization(server.dataSource, { parent: chain[index % 5] }));
      const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id effectiveModels { source inheritedFrom { id } primary { model { id } connectionOwner { id } } availableModels { model { id } } } } } }`;
      const count = async (some: OrganizationEntity[]) => {
        let answer: GraphQLResponse | undefined;
        const statements = await server.countStatements(async () => {
          answer = await server.graphql(query, { as: OPERATOR, variables: { r: some.map((organization) => ({ __typename: 'Organization', id: organization.id })) } });
        });
        expect(answer?.errors).toBeUndefined();
        expect(answer?.data?._entities.map((entity: { effectiveModels: { inheritedFrom: { id: string } } }) => entity.effectiveModels.inheritedFrom.id)).toEqual(
          some.map(() => root.id),
        );
        return statements;
      };

      const one = await count(leaves.slice(0, 1));
      const hundred = await count(leaves);

      expect(hundred).toBe(one);
      expect(one).toBeLessThanOrEqual(4);
    });
  });
  describe('the walk: the caller\'s role and effective models in one statement', () => {
    const NAMED = `query($id: ID!) { organization(id: $id) { name effectiveModels { source primary { model { id } } } } }`;
    const asked = async (as: string | typeof OPERATOR, organization: OrganizationEntity, query = NAMED) => {
      let answer: GraphQLResponse | undefined;
      const statements = await server.countStatements(async () => {
        answer = await server.graphql(query, { as, variables: { id: organization.id } });
      });
      return { answer, statements };
    };

    it('answers a member\'s organization(id) { name effectiveModels } in one SQL statement', async () => {
      const { organization: parent, admin: parentAdmin } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: true });
      const { organization: child, admin } = await tenant({ parent });
      const member = `member-of-${child.id}`;
      await makeMembership(server.dataSource, child, member, OrgRole.MEMBER);
      const wanted = { name: child.name, effectiveModels: { source: 'INHERITED', primary: { model: { id: 'claude-opus-4-6' } } } };

      // A member's check reads the walk, which brings the organization's row and its effective models;
      // an operator's check reads nothing, then the row and the walk are read.
      for (const [as, expected] of [[admin, 1], [member, 1], [OPERATOR, 2]] as const) {
        const { answer, statements } = await asked(as, child);
        expect(answer?.errors).toBeUndefined();
        expect(answer?.data?.organization).toEqual(wanted);
        expect({ as, statements }).toEqual({ as, statements: expected });
      }
      // The parent's admin may see the name, not the effective models: the walk says "not a member"
      // and the memberships decide what may be seen, as before.
      const { answer } = await asked(parentAdmin, child);
      expect(answer?.data?.organization).toEqual({ name: child.name, effectiveModels: null });
      expect(answer?.errors?.map((error) => [error.path?.join('.'), error.extensions?.code])).toEqual([['organization.effectiveModels', 'FORBIDDEN']]);
    });

    it('refuses a stranger and an unknown id as before', async () => {
      const { organization } = await tenant({ providers: [Provider.OPENAI] });

      const stranger = await asked('a-stranger', organization);
      const unknown = await asked('a-stranger', { ...organization, id: '00000000-0000-4000-8000-000000000000' } as OrganizationEntity);

      for (const { answer } of [stranger, unknown]) {
        expect(answer?.data?.organization).toBeNull();
        expect(answer?.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
      }
    });

    it('walks a batch of many organizations, and one of a few, as it walks each alone', async () => {
      const { organization: root } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await makeModelSettings(server.dataSource, root, { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4', offerToSubOrganizations: true });
      const chain = await makeChain(server.dataSource, 6, 'Batch');
      await server.dataSource.query('UPDATE organization SET parent_id = $1 WHERE id = $2', [root.id, chain[0].id]);
      await makeConnection(server.dataSource, chain[2], Provider.OPENAI);
      await makeModelSettings(server.dataSource, chain[2], { primaryModelId: 'gpt-5.4', exclusive: true });
      await makeConnection(server.dataSource, chain[3], Provider.ANTHROPIC);
      await makeModelSettings(server.dataSource, chain[3], { primaryModelId: 'claude-haiku-4-5', offerToSubOrganizations: true });
      const { organization: platform } = await tenant();
      const all = [root, ...chain, platform];
      for (let index = 0; all.length < FEW_ORGANIZATIONS + 4; index += 1) all.push(await makeOrganization(server.dataSource, { parent: chain[index % chain.length] }));
      const member = 'member-of-some-batch';
      for (const organization of all.filter((_, index) => index % 2 === 0)) await makeMembership(server.dataSource, organization, member, OrgRole.MEMBER);
      const selection = `id name effectiveModels { source exclusive inheritedFrom { id } primary { model { id } billing connectionOwner { id } } fallback { model { id } } availableModels { model { id } billing } }`;
      const batch = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { ${selection} } } }`;
      const alone = `query($id: ID!) { organization(id: $id) { ${selection} } }`;

      // Refusals by batch and caller: each organization the member is not a member of is refused.
      const refusals: Record<string, number> = {};
      const few = all.slice(0, 8);
      for (const [form, batchOf] of [['many', all], ['few', few]] as const) {
        for (const [who, as] of [['operator', OPERATOR], ['member', member]] as const) {
          const together = await server.graphql(batch, { as, variables: { r: batchOf.map((organization) => ({ __typename: 'Organization', id: organization.id })) } });
          const separately = await Promise.all(batchOf.map((organization) => server.graphql(alone, { as, variables: { id: organization.id } })));

          expect(together.data?._entities).toEqual(separately.map((answer) => answer.data?.organization ?? null));
          // What may not be read is refused alike (the shapes of the errors differ: a refused
          // organization(id) is one error, a refused entity one per field).
          const refusedTogether = batchOf.map((_, index) => [...new Set(together.errors?.filter((error) => error.path?.[1] === index).map((error) => error.extensions?.code))]);
          const refusedAlone = separately.map((answer) => [...new Set(answer.errors?.map((error) => error.extensions?.code))]);
          expect(refusedTogether).toEqual(refusedAlone);
          refusals[`${form} as ${who}`] = refusedAlone.flat().filter((code) => code === 'FORBIDDEN').length;
        }
      }
      expect(refusals).toEqual({
        'many as operator': 0,
        'many as member': all.length / 2,
        'few as operator': 0,
        'few as member': few.length / 2,
      });
      const sources = (await Promise.all(all.map((organization) => effectiveOf(organization)))).map((effective) => effective.source);
      expect(new Set(sources)).toEqual(new Set(['OWN', 'INHERITED', 'PLATFORM']));
    });

    it('keeps one generic plan for the statements each request sends: PostgreSQL does not plan them again on every call', async () => {
      const { organization, admin } = await tenant({ providers: [Provider.ANTHROPIC] });
      const runner = server.dataSource.createQueryRunner();
      await runner.connect();
      try {
        const calls = async (count: number) => {
          for (let call = 0; call < count; call += 1) {
            await preparedQuery(runner, WALK_OF_FEW, walkParameters([organization.id], admin));
            await preparedQuery(runner, MEMBERSHIPS_OF_USER, [admin]);
          }
        };
        const plans = async () =>
          (await runner.query('SELECT name, generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name = ANY($1) ORDER BY name', [
            [WALK_OF_FEW.name, MEMBERSHIPS_OF_USER.name],
          ])) as { name: string; generic_plans: number; custom_plans: number }[];
        // PostgreSQL tries five custom plans (this connection may have sent the statements before),
        // then keeps the generic one when it costs no more than they did.
        await calls(6);
        const before = await plans();
        await calls(10);
        const after = await plans();

        expect(before.map((plan) => plan.name)).toEqual([MEMBERSHIPS_OF_USER.name, WALK_OF_FEW.name]);
        expect(after).toEqual(before.map((plan) => ({ ...plan, generic_plans: plan.generic_plans + 10 })));
      } finally {
        await runner.release();
      }
    });
  });
});
