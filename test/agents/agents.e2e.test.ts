import { Provider } from '../../src/catalog/catalog';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeModelSettings, tenantMaker } from '../support/factories';
import { OPERATOR, startTestServer, type TestServer } from '../support/test-server';

/** Agents and their pins (DESIGN.md section 4), over real HTTP on a real database. */

const AGENT_FIELDS = 'id name createdAt organization { id } model { model { id } billing connectionOwner { id } } modelAvailable';
const CREATE = `mutation($input: CreateAgentInput!) { createAgent(input: $input) { ${AGENT_FIELDS} } }`;
const SET_MODEL = `mutation($input: SetAgentModelInput!) { setAgentModel(input: $input) { ${AGENT_FIELDS} } }`;
const AGENT = `query($id: ID!) { agent(id: $id) { ${AGENT_FIELDS} } }`;
const UPDATE = `mutation($input: UpdateModelSettingsInput!) { updateModelSettings(input: $input) { settings { version } } }`;
const RESOLVE = `query($organizationId: ID!, $model: String!) { resolveModel(organizationId: $organizationId, model: $model) { model { id } billing connectionOwner { id } } }`;

describe('agents', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const tenant = tenantMaker(() => server.dataSource, 'Agents');

  const create = (as: string, input: Record<string, unknown>) => server.graphql(CREATE, { as, variables: { input } });
  const setModel = (as: string, agentId: string, model: string) => server.graphql(SET_MODEL, { as, variables: { input: { agentId, model } } });
  const readAgent = async (as: string, id: string) => {
    const result = await server.graphql(AGENT, { as, variables: { id } });
    expect(result.errors).toBeUndefined();
    return result.data?.agent;
  };
  const auditOf = (organization: OrganizationEntity) =>
    server.dataSource.query('SELECT action, actor_id, before, after FROM audit_event WHERE organization_id = $1 ORDER BY position', [organization.id]);

  describe('createAgent', () => {
    it('pins the organization\'s effective primary when no model is given, and audits it', async () => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6' });

      const result = await create(member, { organizationId: organization.id, name: '  Support bot  ' });

      expect(result.errors).toBeUndefined();
      const agent = result.data?.createAgent;
      expect(agent).toMatchObject({
        name: 'Support bot',
        organization: { id: organization.id },
        model: { model: { id: 'claude-opus-4-6' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: organization.id } },
        modelAvailable: true,
      });
      expect(Date.parse(agent.createdAt)).not.toBeNaN();
      expect(await auditOf(organization)).toEqual([
        {
          action: 'AGENT_CREATED',
          actor_id: member,
          before: null,
          after: { agentId: agent.id, name: 'Support bot', modelId: 'claude-opus-4-6', billing: 'PROVIDER_ACCOUNT' },
        },
      ]);
    });

    it('pins the platform primary, billed as platform credits, in an organization without settings', async () => {
      const { organization, member } = await tenant();

      const result = await create(member, { organizationId: organization.id, name: 'Platform bot' });

      expect(result.data?.createAgent.model).toEqual({ model: { id: 'claude-sonnet-4-6' }, billing: 'PLATFORM_CREDITS', connectionOwner: null });
    });

    it('pins an inherited primary, carried by the giver\'s connection', async () => {
      const { organization: parent } = await tenant({ providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'gpt-5.4', offerToSubOrganizations: true });
      const { organization, member } = await tenant({ parent });

      const result = await create(member, { organizationId: organization.id, name: 'Heir bot' });

      expect(result.data?.createAgent.model).toEqual({ model: { id: 'gpt-5.4' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id } });
    });

    it.each([
      ['an alias', 'sonnet', 'claude-sonnet-4-6', 'PROVIDER_ACCOUNT'],
      ['an alias of a platform model', 'mini', 'gpt-5-mini', 'PLATFORM_CREDITS'],
      ['a full id', 'claude-haiku-4-5', 'claude-haiku-4-5', 'PROVIDER_ACCOUNT'],
    ])('pins the model given as %s', async (_case, model, id, billing) => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6' });

      const result = await create(member, { organizationId: organization.id, name: 'Explicit', model });

      expect(result.errors).toBeUndefined();
      expect(result.data?.createAgent.model).toMatchObject({ model: { id }, billing });
    });

    it.each([
      ['a model the exclusive organization cannot use', { model: 'gpt-5.4' }, 'MODEL_NOT_AVAILABLE'],
      ['an alias the exclusive organization cannot use', { model: 'mini' }, 'MODEL_NOT_AVAILABLE'],
      ['neither an alias nor a model id', { model: 'claude-3-opus' }, 'BAD_USER_INPUT'],
      ['a blank name', { name: '   ' }, 'BAD_USER_INPUT'],
      ['a name of 201 characters', { name: 'a'.repeat(201) }, 'BAD_USER_INPUT'],
    ])('refuses %s and creates nothing', async (_case, input, code) => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6', exclusive: true });

      const result = await create(member, { organizationId: organization.id, name: 'Refused', ...input });

      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions.code).toBe(code);
      expect(await server.dataSource.query('SELECT id FROM agent WHERE organization_id = $1', [organization.id])).toEqual([]);
      expect(await auditOf(organization)).toEqual([]);
    });
  });

  describe('pins', () => {
    it('keep an agent\'s model when the organization\'s primary changes', async () => {
      const { organization, admin, member } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6' });
      const agent = (await create(member, { organizationId: organization.id, name: 'Steady' })).data?.createAgent;

      const updated = await server.graphql(UPDATE, { as: admin, variables: { input: { organizationId: organization.id, primaryModelId: 'gpt-5.4', expectedVersion: 1 } } });
      expect(updated.errors).toBeUndefined();

      expect(await readAgent(member, agent.id)).toMatchObject({ model: { model: { id: 'claude-sonnet-4-6' }, billing: 'PROVIDER_ACCOUNT' }, modelAvailable: true });
      const fresh = (await create(member, { organizationId: organization.id, name: 'Fresh' })).data?.createAgent;
      expect(fresh.model.model.id).toBe('gpt-5.4');
    });

    it('become unavailable when exclusive mode hides their platform model, and available again when it is lifted', async () => {
      const { organization, admin, member } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6' });
      const agent = (await create(member, { organizationId: organization.id, name: 'On the platform', model: 'gpt' })).data?.createAgent;
      expect(agent.model).toEqual({ model: { id: 'gpt-5.4' }, billing: 'PLATFORM_CREDITS', connectionOwner: null });

      await server.graphql(UPDATE, { as: admin, variables: { input: { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', exclusive: true } } });
      expect(await readAgent(member, agent.id)).toMatchObject({ model: { model: { id: 'gpt-5.4' }, billing: 'PLATFORM_CREDITS' }, modelAvailable: false });

      await server.graphql(UPDATE, { as: admin, variables: { input: { organizationId: organization.id, primaryModelId: 'claude-sonnet-4-6', exclusive: false } } });
      expect((await readAgent(member, agent.id)).modelAvailable).toBe(true);
    });

    it('become unavailable when inheritance ends: a BYOM pin never turns into platform credits', async () => {
      const { organization: parent, admin: parentAdmin } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: true });
      const { organization, member } = await tenant({ parent });
      const agent = (await create(member, { organizationId: organization.id, name: 'Heir' })).data?.createAgent;
      expect(agent.model).toEqual({ model: { id: 'claude-opus-4-6' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id } });

      await server.graphql(UPDATE, { as: parentAdmin, variables: { input: { organizationId: parent.id, primaryModelId: 'claude-opus-4-6', offerToSubOrganizations: false } } });

      // opus is still offered, but only on the platform's account: the pin is not.
      expect(await readAgent(member, agent.id)).toEqual({
        ...agent,
        model: { model: { id: 'claude-opus-4-6' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: null },
        modelAvailable: false,
      });
    });

    it('can be moved with setAgentModel, by alias or id, which audits the change', async () => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6', exclusive: true });
      const agent = (await create(member, { organizationId: organization.id, name: 'Mover', model: 'haiku' })).data?.createAgent;

      const moved = await setModel(member, agent.id, 'opus');

      expect(moved.errors).toBeUndefined();
      expect(moved.data?.setAgentModel).toMatchObject({ id: agent.id, model: { model: { id: 'claude-opus-4-6' }, billing: 'PROVIDER_ACCOUNT' }, modelAvailable: true });
      const events = await auditOf(organization);
      expect(events.at(-1)).toEqual({
        action: 'AGENT_MODEL_CHANGED',
        actor_id: member,
        before: { agentId: agent.id, name: 'Mover', modelId: 'claude-haiku-4-5', billing: 'PROVIDER_ACCOUNT' },
        after: { agentId: agent.id, name: 'Mover', modelId: 'claude-opus-4-6', billing: 'PROVIDER_ACCOUNT' },
      });

      const same = await setModel(member, agent.id, 'claude-opus-4-6');
      expect(same.errors).toBeUndefined();
      expect(await auditOf(organization)).toHaveLength(events.length);
    });

    it('re-pins an unavailable agent onto an available model', async () => {
      const { organization, admin, member } = await tenant({ providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'gpt-5.4' });
      const agent = (await create(member, { organizationId: organization.id, name: 'Stranded', model: 'sonnet' })).data?.createAgent;
      await server.graphql(UPDATE, { as: admin, variables: { input: { organizationId: organization.id, primaryModelId: 'gpt-5.4', exclusive: true } } });
      expect((await readAgent(member, agent.id)).modelAvailable).toBe(false);

      const refused = await setModel(member, agent.id, 'sonnet');
      expect(refused.errors?.[0].extensions.code).toBe('MODEL_NOT_AVAILABLE');
      const repinned = await setModel(member, agent.id, 'mini');

      expect(repinned.data?.setAgentModel).toMatchObject({ model: { model: { id: 'gpt-5-mini' }, billing: 'PROVIDER_ACCOUNT' }, modelAvailable: true });
    });

    it('refuses setAgentModel for an unknown agent: NOT_FOUND for an operator', async () => {
      const result = await server.graphql(SET_MODEL, { as: OPERATOR, variables: { input: { agentId: '00000000-0000-4000-8000-000000000000', model: 'sonnet' } } });

      expect(result.errors?.[0].extensions.code).toBe('NOT_FOUND');
    });
  });

  describe('reading agents', () => {
    it('lists an organization\'s agents, oldest first, in Organization.agents', async () => {
      const { organization, member } = await tenant();
      for (const name of ['First', 'Second', 'Third']) await create(member, { organizationId: organization.id, name });

      const result = await server.graphql(`query($id: ID!) { organization(id: $id) { agents { name model { model { id } } } } }`, { as: member, variables: { id: organization.id } });

      expect(result.errors).toBeUndefined();
      expect(result.data?.organization.agents.map((agent: { name: string }) => agent.name)).toEqual(['First', 'Second', 'Third']);
    });

    it('reads a list of agents and their availability with as many SQL statements for 30 agents as for 1', async () => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6' });
      const ids: string[] = [];
      for (let index = 0; index < 30; index += 1) ids.push((await create(member, { organizationId: organization.id, name: `Agent ${index}` })).data?.createAgent.id);
      const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Agent { id name organization { name } model { model { id } connectionOwner { id } } modelAvailable } } }`;
      const count = (some: string[]) =>
        server.countStatements(async () => {
          const result = await server.graphql(query, { as: member, variables: { r: some.map((id) => ({ __typename: 'Agent', id })) } });
          expect(result.errors).toBeUndefined();
          expect(result.data?._entities.map((agent: { id: string }) => agent.id)).toEqual(some);
        });

      const one = await count(ids.slice(0, 1));
      const thirty = await count(ids);

      expect(thirty).toBe(one);
    });
  });

  describe('resolveModel', () => {
    it('resolves aliases as agents do, for members', async () => {
      const { organization: parent } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, parent, { primaryModelId: 'claude-haiku-4-5', offerToSubOrganizations: true });
      const { organization, member } = await tenant({ parent });

      const haiku = await server.graphql(RESOLVE, { as: member, variables: { organizationId: organization.id, model: 'haiku' } });
      const opus = await server.graphql(RESOLVE, { as: member, variables: { organizationId: organization.id, model: 'opus' } });
      const unknown = await server.graphql(RESOLVE, { as: member, variables: { organizationId: organization.id, model: 'claude' } });

      expect(haiku.data?.resolveModel).toEqual({ model: { id: 'claude-haiku-4-5' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: parent.id } });
      expect(opus.data?.resolveModel).toEqual({ model: { id: 'claude-opus-4-6' }, billing: 'PLATFORM_CREDITS', connectionOwner: null });
      expect(unknown.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'model' }, message: expect.stringContaining('opus, sonnet, haiku, gpt, mini, nano') });
    });

    it('refuses opus in an exclusive organization that connected only OpenAI', async () => {
      const { organization, member } = await tenant({ providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'gpt-5.4', exclusive: true });

      const result = await server.graphql(RESOLVE, { as: member, variables: { organizationId: organization.id, model: 'opus' } });

      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions).toMatchObject({ code: 'MODEL_NOT_AVAILABLE', model: 'opus', availableModels: ['gpt-5.4', 'gpt-5-mini', 'gpt-5-nano'] });
    });
  });
});
