import { AgentEntity } from '../../src/agents/agent.entity';
import { Provider } from '../../src/catalog/catalog';
import { Billing } from '../../src/catalog/model-options';
import { ModelSettingsEntity } from '../../src/model-settings/model-settings.entity';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeConnection, makeModelSettings } from '../support/factories';
import {
  actorOf,
  type As,
  CALLERS,
  canSee,
  type Caller,
  errorsOf,
  expected,
  type ErrorPath,
  isAdmin,
  isMember,
  makePermissionTree,
  makeRejectedAuthorizations,
  unauthenticatedCallers,
  OPERATOR,
  ORG_KEYS,
  ORG_NAMES,
  type OrgKey,
  type PermissionTree,
  type RejectedAuthorizations,
  type Role,
} from '../support/permission-tree';
import { snapshotTables } from '../support/snapshot';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';

/**
 * Who may read effective models, model settings and agents, resolve models, change settings and
 * create and re-pin agents (DESIGN.md section 2), over real HTTP: every new operation and field,
 * for every kind of caller, straight and through `_entities`.
 *
 * The tree (the same as test/auth/permissions.e2e.test.ts; "the organization" is Acme EU), its
 * connections and settings (made by factories, so no key check and no audit event), and its agents:
 *
 *   Acme            parent-admin (ADMIN)                   ANTHROPIC   opus, offered to sub-orgs    Acme bot
 *   ├── Acme EU     eu-admin (ADMIN), eu-member (MEMBER)   ANTHROPIC   sonnet + haiku, exclusive    EU bot, EU legacy bot
 *   │   └── Acme EU Sales   sales-member (MEMBER)                      (inherits Acme's)            Sales bot
 *   └── Acme US     us-member (MEMBER)                                 (inherits Acme's)            US bot
 *   Globex          globex-admin (ADMIN)                   OPENAI      (platform)                   Globex bot
 *   Hooli           mixed (ADMIN), hooli-member (MEMBER)   OPENAI      gpt-5.4 + gpt-5-mini         Hooli bot
 *   Umbrella        mixed (MEMBER)                         ANTHROPIC   haiku                        Umbrella bot
 *
 * `stranger` has a valid token and no membership; `ops` is an operator. "EU legacy bot" is pinned
 * to a platform model that Acme EU's exclusive mode hides, so its modelAvailable is false.
 */

const UNKNOWN_ID = '00000000-0000-4000-8000-0000000000aa';

type Code = 'UNAUTHENTICATED' | 'FORBIDDEN';

/** The provider each organization has connected itself. */
const CONNECTED: Partial<Record<OrgKey, Provider>> = {
  acme: Provider.ANTHROPIC,
  acmeEu: Provider.ANTHROPIC,
  umbrella: Provider.ANTHROPIC,
  globex: Provider.OPENAI,
  hooli: Provider.OPENAI,
};
/** The organizations' own settings, as the factory writes them. */
const SETTINGS: Partial<Record<OrgKey, { primaryModelId: string; fallbackModelId: string | null; exclusive: boolean; offerToSubOrganizations: boolean }>> = {
  acme: { primaryModelId: 'claude-opus-4-6', fallbackModelId: null, exclusive: false, offerToSubOrganizations: true },
  acmeEu: { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'claude-haiku-4-5', exclusive: true, offerToSubOrganizations: false },
  hooli: { primaryModelId: 'gpt-5.4', fallbackModelId: 'gpt-5-mini', exclusive: false, offerToSubOrganizations: false },
  umbrella: { primaryModelId: 'claude-haiku-4-5', fallbackModelId: null, exclusive: false, offerToSubOrganizations: false },
};

interface AgentSpec {
  name: string;
  org: OrgKey;
  modelId: string;
  billing: Billing;
  /** Whose connection carries the pin today; null for a platform model or an unavailable pin. */
  owner: OrgKey | null;
  available: boolean;
}
const AGENTS: AgentSpec[] = [
  { name: 'Acme bot', org: 'acme', modelId: 'claude-opus-4-6', billing: Billing.PROVIDER_ACCOUNT, owner: 'acme', available: true },
  { name: 'EU bot', org: 'acmeEu', modelId: 'claude-sonnet-4-6', billing: Billing.PROVIDER_ACCOUNT, owner: 'acmeEu', available: true },
  { name: 'EU legacy bot', org: 'acmeEu', modelId: 'gpt-5-mini', billing: Billing.PLATFORM_CREDITS, owner: null, available: false },
  { name: 'Sales bot', org: 'sales', modelId: 'claude-opus-4-6', billing: Billing.PROVIDER_ACCOUNT, owner: 'acme', available: true },
  { name: 'US bot', org: 'acmeUs', modelId: 'claude-opus-4-6', billing: Billing.PROVIDER_ACCOUNT, owner: 'acme', available: true },
  { name: 'Globex bot', org: 'globex', modelId: 'claude-sonnet-4-6', billing: Billing.PLATFORM_CREDITS, owner: null, available: true },
  { name: 'Hooli bot', org: 'hooli', modelId: 'gpt-5.4', billing: Billing.PROVIDER_ACCOUNT, owner: 'hooli', available: true },
  { name: 'Umbrella bot', org: 'umbrella', modelId: 'claude-haiku-4-5', billing: Billing.PROVIDER_ACCOUNT, owner: 'umbrella', available: true },
];
/** The agent setAgentModel is tried on in each organization, and a model it can be re-pinned to there (never its current pin). */
const REPIN: Record<OrgKey, { agent: string; model: string }> = {
  acme: { agent: 'Acme bot', model: 'haiku' },
  acmeEu: { agent: 'EU bot', model: 'haiku' },
  sales: { agent: 'Sales bot', model: 'haiku' },
  acmeUs: { agent: 'US bot', model: 'haiku' },
  globex: { agent: 'Globex bot', model: 'haiku' },
  hooli: { agent: 'Hooli bot', model: 'mini' },
  umbrella: { agent: 'Umbrella bot', model: 'sonnet' },
};

const RESOLVE = `query($organizationId: ID!, $model: String!) {
  resolveModel(organizationId: $organizationId, model: $model) { model { id } billing connectionOwner { id } }
}`;
const AGENT_SELECTION = 'id name createdAt organization { id name } model { model { id } billing connectionOwner { id } } modelAvailable';
const AGENT = `query($id: ID!) { agent(id: $id) { ${AGENT_SELECTION} } }`;
const UPDATE = `mutation($input: UpdateModelSettingsInput!) {
  updateModelSettings(input: $input) {
    settings { primaryModel { id } fallbackModel { id } exclusive offerToSubOrganizations version updatedBy }
    effectiveModels { source exclusive primary { model { id } billing } }
  }
}`;
const CLEAR = `mutation($input: ClearModelSettingsInput!) { clearModelSettings(input: $input) { id name } }`;
const CREATE_AGENT = `mutation($input: CreateAgentInput!) {
  createAgent(input: $input) { id name organization { id } model { model { id } billing } modelAvailable }
}`;
const SET_AGENT_MODEL = `mutation($input: SetAgentModelInput!) { setAgentModel(input: $input) { id name model { model { id } billing } } }`;

type OrgField = 'effectiveModels' | 'modelSettings' | 'agents';
const ORG_FIELD_SELECTIONS: Record<OrgField, string> = {
  effectiveModels:
    'effectiveModels { source exclusive inheritedFrom { id name } primary { model { id } billing connectionOwner { id } } fallback { model { id } billing } }',
  modelSettings: 'modelSettings { primaryModel { id } fallbackModel { id } exclusive offerToSubOrganizations version updatedBy }',
  agents: 'agents { id name model { model { id } billing } modelAvailable }',
};
const ORG_FIELDS: OrgField[] = ['effectiveModels', 'modelSettings', 'agents'];
/** Who may read each field of an organization (DESIGN.md section 2). */
const mayRead = (caller: Caller, key: OrgKey, field: OrgField) => (field === 'modelSettings' ? isAdmin(caller, key) : isMember(caller, key));

type AgentField = 'name' | 'createdAt' | 'organization' | 'model' | 'modelAvailable';
const AGENT_FIELD_SELECTIONS: Record<AgentField, string> = {
  name: 'name',
  createdAt: 'createdAt',
  organization: 'organization { id name }',
  model: 'model { model { id } billing connectionOwner { id } }',
  modelAvailable: 'modelAvailable',
};
const AGENT_FIELDS: AgentField[] = ['name', 'createdAt', 'organization', 'model', 'modelAvailable'];

describe('model settings and agents: permissions (DESIGN.md section 2)', () => {
  let server: TestServer;
  let tree: PermissionTree;
  /** The agents' ids and creation times, by name. */
  const agents = new Map<string, { id: string; createdAt: string }>();
  /** Raw Authorization headers that must never authenticate; each claims to be the operator `ops`. */
  let headers: RejectedAuthorizations;

  const org = (key: OrgKey): OrganizationEntity => tree[key];
  const agentId = (name: string) => agents.get(name)!.id;

  beforeAll(async () => {
    server = await startTestServer();
    const ds = server.dataSource;
    tree = await makePermissionTree(ds);
    for (const key of ORG_KEYS) {
      const provider = CONNECTED[key];
      if (provider) await makeConnection(ds, org(key), provider);
      const settings = SETTINGS[key];
      if (settings) await makeModelSettings(ds, org(key), settings);
    }
    const repository = ds.getRepository(AgentEntity);
    for (const spec of AGENTS) {
      const saved = await repository.save(
        repository.create({ organizationId: org(spec.org).id, name: spec.name, modelId: spec.modelId, billing: spec.billing }),
      );
      agents.set(spec.name, { id: saved.id, createdAt: saved.createdAt.toISOString() });
    }
    headers = await makeRejectedAuthorizations(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Everything the four mutations could change, to compare before and after a refused call. */
  const snapshot = () =>
    snapshotTables(server.dataSource, {
      settings: {
        select:
          'SELECT organization_id, primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, version, updated_by, updated_at FROM model_settings',
        order: 'organization_id',
      },
      agents: { select: 'SELECT id, organization_id, name, model_id, billing, updated_at FROM agent', order: 'id' },
      auditEvents: { select: 'SELECT id, organization_id, actor_id, action, before, after, position FROM audit_event', order: 'position' },
    });

  /** The position of the newest audit event, to read what a call wrote after it. */
  async function lastAuditPosition(): Promise<string> {
    const [{ last }] = await server.dataSource.query(`SELECT coalesce(max(position), 0)::text AS last FROM audit_event`);
    return last;
  }
  const auditSince = (position: string) =>
    server.dataSource.query(`SELECT organization_id, actor_id, action FROM audit_event WHERE position > $1 ORDER BY position`, [position]);

  /** What a reader of effectiveModels (ORG_FIELD_SELECTIONS) sees of each organization. */
  function effectiveView(key: OrgKey) {
    const byom = (id: string, owner: OrgKey) => ({ model: { id }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: org(owner).id } });
    const inheritedFromAcme = {
      source: 'INHERITED',
      exclusive: false,
      inheritedFrom: { id: org('acme').id, name: 'Acme' },
      primary: byom('claude-opus-4-6', 'acme'),
      fallback: null,
    };
    const views: Record<OrgKey, unknown> = {
      acme: { source: 'OWN', exclusive: false, inheritedFrom: null, primary: byom('claude-opus-4-6', 'acme'), fallback: null },
      acmeEu: {
        source: 'OWN',
        exclusive: true,
        inheritedFrom: null,
        primary: byom('claude-sonnet-4-6', 'acmeEu'),
        fallback: { model: { id: 'claude-haiku-4-5' }, billing: 'PROVIDER_ACCOUNT' },
      },
      sales: inheritedFromAcme,
      acmeUs: inheritedFromAcme,
      globex: {
        source: 'PLATFORM',
        exclusive: false,
        inheritedFrom: null,
        primary: { model: { id: 'claude-sonnet-4-6' }, billing: 'PLATFORM_CREDITS', connectionOwner: null },
        fallback: { model: { id: 'gpt-5-mini' }, billing: 'PLATFORM_CREDITS' },
      },
      hooli: {
        source: 'OWN',
        exclusive: false,
        inheritedFrom: null,
        primary: byom('gpt-5.4', 'hooli'),
        fallback: { model: { id: 'gpt-5-mini' }, billing: 'PROVIDER_ACCOUNT' },
      },
      umbrella: { source: 'OWN', exclusive: false, inheritedFrom: null, primary: byom('claude-haiku-4-5', 'umbrella'), fallback: null },
    };
    return views[key];
  }

  /** What a reader of modelSettings sees of an organization: its row, as stored; null without one. */
  async function settingsView(key: OrgKey) {
    const rows: Record<string, any>[] = await server.dataSource.query(
      `SELECT primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, version, updated_by FROM model_settings WHERE organization_id = $1`,
      [org(key).id],
    );
    return rows.map((row) => ({
      primaryModel: { id: row.primary_model_id },
      fallbackModel: row.fallback_model_id ? { id: row.fallback_model_id } : null,
      exclusive: row.exclusive,
      offerToSubOrganizations: row.offer_to_sub_organizations,
      version: row.version,
      updatedBy: row.updated_by,
    }))[0] ?? null;
  }

  const specOf = (name: string) => {
    const spec = AGENTS.find((candidate) => candidate.name === name);
    if (!spec) throw new Error(`No agent named ${name} in the fixture`);
    return spec;
  };

  /** What a reader of agents sees of an organization: its agents, oldest first, straight from the table. */
  async function agentsView(key: OrgKey) {
    const rows: { id: string; name: string; model_id: string; billing: string }[] = await server.dataSource.query(
      `SELECT id, name, model_id, billing FROM agent WHERE organization_id = $1 ORDER BY created_at, id`,
      [org(key).id],
    );
    return rows.map((row) => ({ id: row.id, name: row.name, model: { model: { id: row.model_id }, billing: row.billing }, modelAvailable: specOf(row.name).available }));
  }

  const orgFieldValue = (key: OrgKey, field: OrgField): Promise<unknown> =>
    field === 'effectiveModels' ? Promise.resolve(effectiveView(key)) : field === 'modelSettings' ? settingsView(key) : agentsView(key);

  /** Every field of an agent, as AGENT_SELECTION asks for it. */
  function agentView(spec: AgentSpec): Record<AgentField | 'id', unknown> {
    return {
      id: agentId(spec.name),
      name: spec.name,
      createdAt: agents.get(spec.name)!.createdAt,
      organization: { id: org(spec.org).id, name: ORG_NAMES[spec.org] },
      model: { model: { id: spec.modelId }, billing: spec.billing, connectionOwner: spec.owner ? { id: org(spec.owner).id } : null },
      modelAvailable: spec.available,
    };
  }

  const organizationRepresentations = (keys: OrgKey[] = ORG_KEYS) => keys.map((key) => ({ __typename: 'Organization', id: org(key).id }));
  const agentRepresentations = (specs: AgentSpec[] = AGENTS) => specs.map((spec) => ({ __typename: 'Agent', id: agentId(spec.name) }));
  const entities = (selection: string, representations: Record<string, string>[], as: As) =>
    server.graphql(`query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`, { as, variables: { r: representations } });
  const resolve = (as: As, organizationId: string, model = 'sonnet') => server.graphql(RESOLVE, { as, variables: { organizationId, model } });
  const readAgent = (as: As, id: string) => server.graphql(AGENT, { as, variables: { id } });

  /** Callers without a valid token: UNAUTHENTICATED, whatever their token claims. */
  const UNAUTHENTICATED = unauthenticatedCallers(() => headers);

  describe('without a valid token', () => {
    describe.each(UNAUTHENTICATED)('$label', ({ as, message }) => {
      it('is refused resolveModel with UNAUTHENTICATED and no data', async () => {
        const result = await resolve(as(), org('acmeEu').id);
        expect(result.status).toBe(200);
        // resolveModel is non-null: the error nulls the whole data.
        expect(result.data).toBeNull();
        expect(errorsOf(result)).toEqual([{ path: ['resolveModel'], code: 'UNAUTHENTICATED' }]);
        expect(result.errors?.[0].message).toMatch(message);
      });

      it('is refused agent(id) with UNAUTHENTICATED and no data', async () => {
        const result = await readAgent(as(), agentId('EU bot'));
        expect(result.status).toBe(200);
        expect(result.data).toEqual({ agent: null });
        expect(errorsOf(result)).toEqual([{ path: ['agent'], code: 'UNAUTHENTICATED' }]);
        expect(result.errors?.[0].message).toMatch(message);
        expect(JSON.stringify(result)).not.toContain('EU bot');
      });

      it('gets no entity through _entities: one UNAUTHENTICATED error for the field', async () => {
        const result = await entities(
          `... on Organization { id effectiveModels { source } modelSettings { version } agents { name } }
           ... on Agent { id name model { model { id } } modelAvailable }`,
          [...organizationRepresentations(['acmeEu']), ...agentRepresentations([specOf('EU bot')])],
          as(),
        );
        // Refused for the field before any reference is read (test/auth/entities-limits.e2e.test.ts).
        expect(result.data).toBeNull();
        expect(errorsOf(result)).toEqual([{ path: ['_entities'], code: 'UNAUTHENTICATED' }]);
        expect(JSON.stringify(result)).not.toContain('EU bot');
      });
    });
  });

  describe('Query.resolveModel: members and admins of the organization, and operators', () => {
    /** What 'sonnet' resolves to in each organization. */
    const SONNET: Record<OrgKey, { billing: string; owner: OrgKey | null }> = {
      acme: { billing: 'PROVIDER_ACCOUNT', owner: 'acme' },
      acmeEu: { billing: 'PROVIDER_ACCOUNT', owner: 'acmeEu' },
      // Inheriting Acme's opus only; sonnet comes from the platform.
      sales: { billing: 'PLATFORM_CREDITS', owner: null },
      acmeUs: { billing: 'PLATFORM_CREDITS', owner: null },
      globex: { billing: 'PLATFORM_CREDITS', owner: null },
      hooli: { billing: 'PLATFORM_CREDITS', owner: null },
      umbrella: { billing: 'PROVIDER_ACCOUNT', owner: 'umbrella' },
    };

    it.each(CALLERS)('resolves a model for $label in exactly the organizations it belongs to; FORBIDDEN elsewhere', async (caller) => {
      const results = await Promise.all(ORG_KEYS.map((key) => resolve(caller.as, org(key).id)));
      for (const [index, key] of ORG_KEYS.entries()) {
        const result = results[index];
        if (isMember(caller, key)) {
          expect({ key, errors: result.errors }).toEqual({ key, errors: undefined });
          const { billing, owner } = SONNET[key];
          expect(result.data?.resolveModel).toEqual({ model: { id: 'claude-sonnet-4-6' }, billing, connectionOwner: owner ? { id: org(owner).id } : null });
        } else {
          expect({ key, data: result.data, errors: errorsOf(result) }).toEqual({ key, data: null, errors: [{ path: ['resolveModel'], code: 'FORBIDDEN' }] });
          expect(result.errors?.[0].message).toMatch(/members/);
        }
      }
    });

    it('tells a member that a model is not available, and an outsider only FORBIDDEN (no oracle of what another organization may use)', async () => {
      const member = await resolve('eu-member', org('acmeEu').id, 'gpt-5.4');
      expect(member.data).toBeNull();
      expect(errorsOf(member)).toEqual([{ path: ['resolveModel'], code: 'MODEL_NOT_AVAILABLE' }]);
      for (const as of ['globex-admin', 'parent-admin', 'stranger']) {
        const outsider = await resolve(as, org('acmeEu').id, 'gpt-5.4');
        expect(outsider.data).toBeNull();
        expect(errorsOf(outsider)).toEqual([{ path: ['resolveModel'], code: 'FORBIDDEN' }]);
        const nonsense = await resolve(as, org('acmeEu').id, 'claude-3-opus');
        expect(errorsOf(nonsense)).toEqual([{ path: ['resolveModel'], code: 'FORBIDDEN' }]);
      }
    });

    it('answers an unknown organization with FORBIDDEN to non-operators (no existence oracle) and NOT_FOUND to an operator', async () => {
      for (const as of ['eu-member', 'eu-admin', 'stranger', 'mixed']) {
        const result = await resolve(as, UNKNOWN_ID);
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: null, errors: [{ path: ['resolveModel'], code: 'FORBIDDEN' }] });
      }
      const operator = await resolve(OPERATOR, UNKNOWN_ID);
      expect(operator.data).toBeNull();
      expect(errorsOf(operator)).toEqual([{ path: ['resolveModel'], code: 'NOT_FOUND' }]);
    });

    it('answers a malformed organization id with BAD_USER_INPUT when signed in, and UNAUTHENTICATED without a token', async () => {
      for (const as of ['eu-member', 'stranger', OPERATOR]) {
        const result = await resolve(as, 'not-a-uuid');
        expect(errorsOf(result)).toEqual([{ path: ['resolveModel'], code: 'BAD_USER_INPUT' }]);
      }
      const anonymous = await resolve(undefined, 'not-a-uuid');
      expect(errorsOf(anonymous)).toEqual([{ path: ['resolveModel'], code: 'UNAUTHENTICATED' }]);
    });

    it('applies the same rules to an organization id written in upper case', async () => {
      const upper = org('acmeEu').id.toUpperCase();
      const member = await resolve('eu-member', upper);
      expect(member.errors).toBeUndefined();
      expect(member.data?.resolveModel.model).toEqual({ id: 'claude-sonnet-4-6' });
      const outsider = await resolve('globex-admin', upper);
      expect(outsider.data).toBeNull();
      expect(errorsOf(outsider)).toEqual([{ path: ['resolveModel'], code: 'FORBIDDEN' }]);
    });
  });

  describe('Query.agent(id): members and admins of the agent\'s organization, and operators', () => {
    it.each(CALLERS)('shows $label exactly the agents of its organizations, whole; FORBIDDEN and nothing of the others', async (caller) => {
      const results = await Promise.all(AGENTS.map((spec) => readAgent(caller.as, agentId(spec.name))));
      for (const [index, spec] of AGENTS.entries()) {
        const result = results[index];
        if (isMember(caller, spec.org)) {
          expect({ agent: spec.name, errors: result.errors }).toEqual({ agent: spec.name, errors: undefined });
          expect(result.data?.agent).toEqual(agentView(spec));
        } else {
          expect({ agent: spec.name, data: result.data, errors: errorsOf(result) }).toEqual({
            agent: spec.name,
            data: { agent: null },
            errors: [{ path: ['agent'], code: 'FORBIDDEN' }],
          });
          expect(JSON.stringify(result)).not.toContain(spec.name);
        }
      }
    });

    it('answers an unknown agent id with the same FORBIDDEN as a forbidden one to non-operators, and NOT_FOUND to an operator', async () => {
      for (const as of ['eu-member', 'eu-admin', 'stranger', 'mixed']) {
        const result = await readAgent(as, UNKNOWN_ID);
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: { agent: null }, errors: [{ path: ['agent'], code: 'FORBIDDEN' }] });
        // Indistinguishable from an existing agent of another organization.
        const forbidden = await readAgent(as, agentId('Globex bot'));
        expect(errorsOf(forbidden)).toEqual(errorsOf(result));
        expect(forbidden.errors?.[0].message).toBe(result.errors?.[0].message);
      }
      const operator = await readAgent(OPERATOR, UNKNOWN_ID);
      expect(operator.data).toEqual({ agent: null });
      expect(errorsOf(operator)).toEqual([{ path: ['agent'], code: 'NOT_FOUND' }]);
    });

    it('answers a malformed agent id with BAD_USER_INPUT when signed in, and UNAUTHENTICATED without a token', async () => {
      for (const as of ['eu-member', 'stranger', OPERATOR]) {
        const result = await readAgent(as, 'not-a-uuid');
        expect(result.data).toEqual({ agent: null });
        expect(errorsOf(result)).toEqual([{ path: ['agent'], code: 'BAD_USER_INPUT' }]);
      }
      const anonymous = await readAgent(undefined, 'not-a-uuid');
      expect(errorsOf(anonymous)).toEqual([{ path: ['agent'], code: 'UNAUTHENTICATED' }]);
    });

    it('applies the same rules to an agent id written in upper case', async () => {
      const upper = agentId('EU bot').toUpperCase();
      const member = await readAgent('eu-member', upper);
      expect(member.errors).toBeUndefined();
      expect(member.data?.agent).toMatchObject({ name: 'EU bot', organization: { id: org('acmeEu').id } });
      const parentAdmin = await readAgent('parent-admin', upper);
      expect(parentAdmin.data).toEqual({ agent: null });
      expect(errorsOf(parentAdmin)).toEqual([{ path: ['agent'], code: 'FORBIDDEN' }]);
    });

    it("gives a member of the agent's organization the organization's effective models but not its settings, and only the name of its parent", async () => {
      const result = await server.graphql(
        `query($id: ID!) { agent(id: $id) {
          name
          organization { name effectiveModels { source } modelSettings { version } parent { id name effectiveModels { source } agents { name } } }
        } }`,
        { as: 'eu-member', variables: { id: agentId('EU bot') } },
      );
      expect(result.data?.agent).toEqual({
        name: 'EU bot',
        organization: {
          name: 'Acme EU',
          effectiveModels: { source: 'OWN' },
          modelSettings: null,
          parent: { id: org('acme').id, name: 'Acme', effectiveModels: null, agents: null },
        },
      });
      expect(errorsOf(result)).toEqual(
        expected([
          { path: ['agent', 'organization', 'modelSettings'], code: 'FORBIDDEN' },
          { path: ['agent', 'organization', 'parent', 'effectiveModels'], code: 'FORBIDDEN' },
          { path: ['agent', 'organization', 'parent', 'agents'], code: 'FORBIDDEN' },
        ]),
      );
    });
  });

  describe('Organization.effectiveModels and agents (members and admins) and modelSettings (admins), through _entities', () => {
    const cells = CALLERS.flatMap((caller) => ORG_FIELDS.map((field) => ({ ...caller, caller, field })));

    it.each(cells)('shows $label the $field of exactly the organizations it may read; null with FORBIDDEN for each other one', async ({ caller, field }) => {
      const result = await entities(`... on Organization { id ${ORG_FIELD_SELECTIONS[field]} }`, organizationRepresentations(), caller.as);
      const allowed = ORG_KEYS.filter((key) => mayRead(caller, key, field));
      expect(result.data?._entities).toEqual(
        await Promise.all(ORG_KEYS.map(async (key) => ({ id: org(key).id, [field]: allowed.includes(key) ? await orgFieldValue(key, field) : null }))),
      );
      expect(errorsOf(result)).toEqual(
        expected(ORG_KEYS.flatMap((key, index) => (allowed.includes(key) ? [] : [{ path: ['_entities', index, field], code: 'FORBIDDEN' }]))),
      );
    });

    it('is not vacuous: an operator reads settings where there are some and null where there are none, and every organization has agents', async () => {
      const result = await entities(`... on Organization { id ${ORG_FIELD_SELECTIONS.modelSettings} agents { name } }`, organizationRepresentations(), OPERATOR);
      expect(result.errors).toBeUndefined();
      const entitiesByKey = Object.fromEntries(ORG_KEYS.map((key, index) => [key, result.data?._entities[index]]));
      expect(entitiesByKey.acmeEu.modelSettings).toMatchObject({ primaryModel: { id: 'claude-sonnet-4-6' }, version: 1 });
      expect(entitiesByKey.globex.modelSettings).toBeNull();
      for (const key of ORG_KEYS) expect(entitiesByKey[key].agents.length).toBeGreaterThan(0);
    });
  });

  describe('Organization fields through organization(id), for the callers who may see Acme EU', () => {
    // The others may not see Acme EU at all (test/auth/permissions.e2e.test.ts); _entities above covers them.
    const READERS = CALLERS.filter((caller) => canSee(caller, 'acmeEu'));
    const cells = READERS.flatMap((caller) =>
      ORG_FIELDS.map((field) => ({ ...caller, caller, field, verdict: mayRead(caller, 'acmeEu', field) ? 'grants' : 'denies' })),
    );

    it.each(cells)('$verdict $label the $field of Acme EU, with its id and name intact', async ({ caller, field }) => {
      const result = await server.graphql(`query($id: ID!) { organization(id: $id) { id name ${ORG_FIELD_SELECTIONS[field]} } }`, {
        as: caller.as,
        variables: { id: org('acmeEu').id },
      });
      if (mayRead(caller, 'acmeEu', field)) {
        expect(result.errors).toBeUndefined();
        expect(result.data?.organization).toEqual({ id: org('acmeEu').id, name: 'Acme EU', [field]: await orgFieldValue('acmeEu', field) });
      } else {
        // The three fields are nullable: null on their own, and the siblings id and name still arrive.
        expect(result.data?.organization).toEqual({ id: org('acmeEu').id, name: 'Acme EU', [field]: null });
        expect(errorsOf(result)).toEqual([{ path: ['organization', field], code: 'FORBIDDEN' }]);
        expect(result.errors?.[0].message).toMatch(field === 'modelSettings' ? /admins/ : /members/);
        expect(JSON.stringify(result)).not.toContain('EU bot');
      }
    });
  });

  describe('roles never carry over to related organizations: only their id and name', () => {
    const GUARDED = 'effectiveModels { source } modelSettings { version } agents { name }';
    const deniedAll = (path: ErrorPath) =>
      ['effectiveModels', 'modelSettings', 'agents'].map((field) => ({ path: [...path, field], code: 'FORBIDDEN' }));

    it("denies an admin of the parent organization the sub-organizations' models, settings and agents, while its own and their names arrive", async () => {
      const result = await server.graphql(`query($id: ID!) { organization(id: $id) { name ${GUARDED} subOrganizations { id name ${GUARDED} } } }`, {
        as: 'parent-admin',
        variables: { id: org('acme').id },
      });
      expect(result.data?.organization).toEqual({
        name: 'Acme',
        effectiveModels: { source: 'OWN' },
        modelSettings: { version: 1 },
        agents: [{ name: 'Acme bot' }],
        subOrganizations: [
          { id: org('acmeEu').id, name: 'Acme EU', effectiveModels: null, modelSettings: null, agents: null },
          { id: org('acmeUs').id, name: 'Acme US', effectiveModels: null, modelSettings: null, agents: null },
        ],
      });
      expect(errorsOf(result)).toEqual(expected([0, 1].flatMap((index) => deniedAll(['organization', 'subOrganizations', index]))));
    });

    it("denies an admin of the organization its parent's and its sub-organization's models, settings and agents", async () => {
      const result = await server.graphql(
        `query($id: ID!) { organization(id: $id) { modelSettings { version } parent { name ${GUARDED} } subOrganizations { name ${GUARDED} } } }`,
        { as: 'eu-admin', variables: { id: org('acmeEu').id } },
      );
      expect(result.data?.organization).toEqual({
        modelSettings: { version: 1 },
        parent: { name: 'Acme', effectiveModels: null, modelSettings: null, agents: null },
        subOrganizations: [{ name: 'Acme EU Sales', effectiveModels: null, modelSettings: null, agents: null }],
      });
      expect(errorsOf(result)).toEqual(expected([...deniedAll(['organization', 'parent']), ...deniedAll(['organization', 'subOrganizations', 0])]));
    });

    it('shows a member of a sub-organization the name of the ancestor it inherits from, and nothing else of it or of its parent', async () => {
      const result = await server.graphql(
        `query($id: ID!) { organization(id: $id) {
          effectiveModels { source inheritedFrom { id name ${GUARDED} } primary { connectionOwner { id name agents { name } } } }
          parent { id name ${GUARDED} }
        } }`,
        { as: 'sales-member', variables: { id: org('sales').id } },
      );
      expect(result.data?.organization).toEqual({
        effectiveModels: {
          source: 'INHERITED',
          inheritedFrom: { id: org('acme').id, name: 'Acme', effectiveModels: null, modelSettings: null, agents: null },
          primary: { connectionOwner: { id: org('acme').id, name: 'Acme', agents: null } },
        },
        parent: { id: org('acmeEu').id, name: 'Acme EU', effectiveModels: null, modelSettings: null, agents: null },
      });
      expect(errorsOf(result)).toEqual(
        expected([
          ...deniedAll(['organization', 'effectiveModels', 'inheritedFrom']),
          { path: ['organization', 'effectiveModels', 'primary', 'connectionOwner', 'agents'], code: 'FORBIDDEN' },
          ...deniedAll(['organization', 'parent']),
        ]),
      );
    });

    it("lists the caller's organizations with settings only where the caller is an admin (siblings in the list still arrive)", async () => {
      const result = await server.graphql(
        `{ viewer { organizations { name viewerRole effectiveModels { source primary { model { id } } } modelSettings { version } agents { name } } } }`,
        { as: 'mixed' },
      );
      expect(result.data?.viewer.organizations).toEqual([
        {
          name: 'Hooli',
          viewerRole: 'ADMIN',
          effectiveModels: { source: 'OWN', primary: { model: { id: 'gpt-5.4' } } },
          modelSettings: { version: 1 },
          agents: [{ name: 'Hooli bot' }],
        },
        {
          name: 'Umbrella',
          viewerRole: 'MEMBER',
          effectiveModels: { source: 'OWN', primary: { model: { id: 'claude-haiku-4-5' } } },
          modelSettings: null,
          agents: [{ name: 'Umbrella bot' }],
        },
      ]);
      expect(errorsOf(result)).toEqual([{ path: ['viewer', 'organizations', 1, 'modelSettings'], code: 'FORBIDDEN' }]);
    });
  });

  describe('Agent fetched by reference: id for any valid token, every other field for members of its organization', () => {
    it.each(CALLERS)('gives $label the id of every agent', async ({ as }) => {
      const result = await entities('... on Agent { id }', agentRepresentations(), as);
      expect(result.errors).toBeUndefined();
      expect(result.data?._entities).toEqual(AGENTS.map((spec) => ({ id: agentId(spec.name) })));
    });

    const cells = CALLERS.flatMap((caller) => AGENT_FIELDS.map((field) => ({ ...caller, caller, field })));

    it.each(cells)(
      "gives $label the $field of exactly the agents of its organizations; each other agent is null with its own FORBIDDEN",
      async ({ caller, field }) => {
        const result = await entities(`... on Agent { id ${AGENT_FIELD_SELECTIONS[field]} }`, agentRepresentations(), caller.as);
        // Every Agent field but id is non-null: a denied one nulls its agent, and only that agent.
        expect(result.data?._entities).toEqual(
          AGENTS.map((spec) => (isMember(caller, spec.org) ? { id: agentId(spec.name), [field]: agentView(spec)[field] } : null)),
        );
        expect(errorsOf(result)).toEqual(
          expected(AGENTS.flatMap((spec, index) => (isMember(caller, spec.org) ? [] : [{ path: ['_entities', index, field], code: 'FORBIDDEN' }]))),
        );
      },
    );
  });

  describe('federation: Organization and Agent references mixed in one request', () => {
    const SELECTION = `... on Organization { id effectiveModels { source } modelSettings { version } agents { name } }
      ... on Agent { id name model { model { id } } modelAvailable }`;
    /** Each organization, followed by its agents. */
    const ITEMS: ({ kind: 'Organization'; key: OrgKey } | { kind: 'Agent'; spec: AgentSpec })[] = ORG_KEYS.flatMap((key) => [
      { kind: 'Organization' as const, key },
      ...AGENTS.filter((spec) => spec.org === key).map((spec) => ({ kind: 'Agent' as const, spec })),
    ]);
    const AGENT_GUARDED = ['name', 'model', 'modelAvailable'];

    it.each(CALLERS)(
      'gives $label every item it may read in the same answer, and a FORBIDDEN of its own, at its own path, for each forbidden one',
      async (caller) => {
        const representations = ITEMS.map((item) =>
          item.kind === 'Organization' ? { __typename: 'Organization', id: org(item.key).id } : { __typename: 'Agent', id: agentId(item.spec.name) },
        );
        const result = await entities(SELECTION, representations, caller.as);

        const expectedEntities = await Promise.all(
          ITEMS.map(async (item) => {
            if (item.kind === 'Organization') {
              const view: Record<string, unknown> = { id: org(item.key).id };
              view.effectiveModels = isMember(caller, item.key) ? { source: (effectiveView(item.key) as { source: string }).source } : null;
              const settings = isAdmin(caller, item.key) ? await settingsView(item.key) : null;
              view.modelSettings = settings && { version: settings.version };
              view.agents = isMember(caller, item.key) ? (await agentsView(item.key)).map(({ name }) => ({ name })) : null;
              return view;
            }
            const { spec } = item;
            return isMember(caller, spec.org)
              ? { id: agentId(spec.name), name: spec.name, model: { model: { id: spec.modelId } }, modelAvailable: spec.available }
              : null;
          }),
        );
        expect(result.data?._entities).toEqual(expectedEntities);

        const errors = errorsOf(result);
        const isAgentIndex = (index: unknown) => typeof index === 'number' && ITEMS[index]?.kind === 'Agent';
        // Organization fields are nullable: exactly one FORBIDDEN per denied field.
        expect(errors.filter((error) => !isAgentIndex(error.path?.[1]))).toEqual(
          expected(
            ITEMS.flatMap((item, index) =>
              item.kind === 'Organization'
                ? ORG_FIELDS.filter((field) => !mayRead(caller, item.key, field)).map((field) => ({ path: ['_entities', index, field], code: 'FORBIDDEN' }))
                : [],
            ),
          ),
        );
        // A denied agent's non-null fields null it: exactly one FORBIDDEN per denied agent, on one of
        // its guarded fields (which one settles first is graphql-js's business).
        const agentErrors = errors.filter((error) => isAgentIndex(error.path?.[1]));
        const deniedAgentIndexes = ITEMS.flatMap((item, index) => (item.kind === 'Agent' && !isMember(caller, item.spec.org) ? [index] : []));
        expect(agentErrors.map((error) => error.path?.[1]).sort((a, b) => Number(a) - Number(b))).toEqual(deniedAgentIndexes);
        for (const error of agentErrors) {
          expect(error.code).toBe('FORBIDDEN');
          expect(error.path).toHaveLength(3);
          expect(AGENT_GUARDED).toContain(error.path?.[2]);
        }
      },
    );

    it('evaluates each entity on its own, whatever the order of the representations', async () => {
      const representations = [
        { __typename: 'Agent', id: agentId('Globex bot') },
        { __typename: 'Organization', id: org('umbrella').id },
        { __typename: 'Agent', id: agentId('Umbrella bot') },
        { __typename: 'Organization', id: org('globex').id },
        { __typename: 'Agent', id: agentId('Hooli bot') },
        { __typename: 'Organization', id: org('hooli').id },
      ];
      const result = await entities(
        `... on Organization { id effectiveModels { source } modelSettings { version } agents { name } } ... on Agent { id name }`,
        representations,
        'mixed',
      );
      expect(result.data?._entities).toEqual([
        null,
        { id: org('umbrella').id, effectiveModels: { source: 'OWN' }, modelSettings: null, agents: [{ name: 'Umbrella bot' }] },
        { id: agentId('Umbrella bot'), name: 'Umbrella bot' },
        { id: org('globex').id, effectiveModels: null, modelSettings: null, agents: null },
        { id: agentId('Hooli bot'), name: 'Hooli bot' },
        { id: org('hooli').id, effectiveModels: { source: 'OWN' }, modelSettings: { version: 1 }, agents: [{ name: 'Hooli bot' }] },
      ]);
      expect(errorsOf(result)).toEqual(
        expected([
          { path: ['_entities', 0, 'name'], code: 'FORBIDDEN' },
          { path: ['_entities', 1, 'modelSettings'], code: 'FORBIDDEN' },
          { path: ['_entities', 3, 'effectiveModels'], code: 'FORBIDDEN' },
          { path: ['_entities', 3, 'modelSettings'], code: 'FORBIDDEN' },
          { path: ['_entities', 3, 'agents'], code: 'FORBIDDEN' },
        ]),
      );
    });
  });

  describe('mutations', () => {
    interface MutationCase {
      name: 'updateModelSettings' | 'clearModelSettings' | 'createAgent' | 'setAgentModel';
      /** Who may run it on an organization: its admins, or its members and admins. */
      needs: Role;
      /** The mutation on an organization, with an input that succeeds for a caller who has the right. */
      run: (as: As, key: OrgKey) => Promise<GraphQLResponse>;
    }

    /** Settings that differ from every organization's own and that its connected provider can carry. */
    const settingsInput = (key: OrgKey) =>
      CONNECTED[key] === Provider.OPENAI
        ? { organizationId: org(key).id, primaryModelId: 'gpt-5-nano', fallbackModelId: 'gpt-5.4', exclusive: true }
        : { organizationId: org(key).id, primaryModelId: 'claude-haiku-4-5', fallbackModelId: 'claude-sonnet-4-6', exclusive: true };
    const createInput = (key: OrgKey) => ({ organizationId: org(key).id, name: 'Intruder bot' });
    const repinInput = (key: OrgKey) => ({ agentId: agentId(REPIN[key].agent), model: REPIN[key].model });

    const MUTATIONS: MutationCase[] = [
      {
        name: 'updateModelSettings',
        needs: 'ADMIN',
        run: (as, key) => server.graphql(UPDATE, { as, variables: { input: settingsInput(key) } }),
      },
      { name: 'clearModelSettings', needs: 'ADMIN', run: (as, key) => server.graphql(CLEAR, { as, variables: { input: { organizationId: org(key).id } } }) },
      { name: 'createAgent', needs: 'MEMBER', run: (as, key) => server.graphql(CREATE_AGENT, { as, variables: { input: createInput(key) } }) },
      { name: 'setAgentModel', needs: 'MEMBER', run: (as, key) => server.graphql(SET_AGENT_MODEL, { as, variables: { input: repinInput(key) } }) },
    ];
    const ADMIN_MUTATIONS = MUTATIONS.filter((mutation) => mutation.needs === 'ADMIN');
    const MEMBER_MUTATIONS = MUTATIONS.filter((mutation) => mutation.needs === 'MEMBER');

    /** Signed-in callers refused the mutations that need `needs`, on the organization `target` (setAgentModel: its agent of REPIN). */
    const FORBIDDEN_CALLERS: { label: string; as: As; target: OrgKey; mutations: MutationCase[] }[] = [
      { label: 'a member of the organization', as: 'eu-member', target: 'acmeEu', mutations: ADMIN_MUTATIONS },
      { label: 'an admin of the parent organization', as: 'parent-admin', target: 'acmeEu', mutations: MUTATIONS },
      { label: 'a member of a sub-organization', as: 'sales-member', target: 'acmeEu', mutations: MUTATIONS },
      { label: 'a member of a sibling organization', as: 'us-member', target: 'acmeEu', mutations: MUTATIONS },
      { label: 'an admin of another organization', as: 'globex-admin', target: 'acmeEu', mutations: MUTATIONS },
      { label: 'a member of another organization', as: 'hooli-member', target: 'acmeEu', mutations: MUTATIONS },
      { label: 'a signed-in user with no membership', as: 'stranger', target: 'acmeEu', mutations: MUTATIONS },
      { label: 'an admin of one organization and member of another, on a third', as: 'mixed', target: 'acmeEu', mutations: MUTATIONS },
      { label: 'an admin of one organization, on another where they are a member', as: 'mixed', target: 'umbrella', mutations: ADMIN_MUTATIONS },
      { label: 'an admin of a sub-organization, on its parent', as: 'eu-admin', target: 'acme', mutations: MUTATIONS },
      { label: 'a member of a sub-organization, on its parent', as: 'eu-member', target: 'acme', mutations: MEMBER_MUTATIONS },
      { label: 'a member of the parent organization, on its sub-organization', as: 'eu-member', target: 'sales', mutations: MEMBER_MUTATIONS },
    ];

    const denials = [
      ...UNAUTHENTICATED.flatMap((caller) =>
        MUTATIONS.map((mutation) => ({ label: caller.label, as: caller.as, target: 'acmeEu' as OrgKey, code: 'UNAUTHENTICATED' as Code, mutation })),
      ),
      ...FORBIDDEN_CALLERS.flatMap((caller) =>
        caller.mutations.map((mutation) => ({ label: caller.label, as: () => caller.as, target: caller.target, code: 'FORBIDDEN' as Code, mutation })),
      ),
    ].map((denial) => ({ ...denial, mutationName: denial.mutation.name, targetName: ORG_NAMES[denial.target] }));

    it.each(denials)('refuses $mutationName on $targetName to $label with $code, and changes nothing', async ({ as, target, code, mutation }) => {
      const before = await snapshot();
      const result = await mutation.run(as(), target);
      // Every mutation field is non-null: the denial nulls the whole data.
      expect(result.status).toBe(200);
      expect(result.data).toBeNull();
      expect(errorsOf(result)).toEqual([{ path: [mutation.name], code }]);
      expect(await snapshot()).toEqual(before);
    });

    it('refuses an outsider with FORBIDDEN before looking at the input: no oracle of what the organization may use', async () => {
      const before = await snapshot();
      const outsiderInputs: [string, Record<string, unknown>, string][] = [
        // An alias is BAD_USER_INPUT to an admin; a model of an unconnected provider MODEL_NOT_AVAILABLE.
        [UPDATE, { ...settingsInput('acmeEu'), primaryModelId: 'sonnet' }, 'BAD_USER_INPUT'],
        [UPDATE, { ...settingsInput('acmeEu'), primaryModelId: 'gpt-5.4', fallbackModelId: null }, 'MODEL_NOT_AVAILABLE'],
        [UPDATE, { ...settingsInput('acmeEu'), offerToSubOrganizations: true, expectedVersion: 7 }, 'CONFLICT'],
        [CLEAR, { organizationId: org('acmeEu').id, expectedVersion: 7 }, 'CONFLICT'],
        [CREATE_AGENT, { organizationId: org('acmeEu').id, name: '   ' }, 'BAD_USER_INPUT'],
        [CREATE_AGENT, { organizationId: org('acmeEu').id, name: 'Platform bot', model: 'gpt-5.4' }, 'MODEL_NOT_AVAILABLE'],
        [SET_AGENT_MODEL, { agentId: agentId('EU bot'), model: 'gpt-5.4' }, 'MODEL_NOT_AVAILABLE'],
        [SET_AGENT_MODEL, { agentId: agentId('EU bot'), model: 'claude-3-opus' }, 'BAD_USER_INPUT'],
      ];
      for (const [query, input, insiderCode] of outsiderInputs) {
        const name = /\{\s*(\w+)\(/.exec(query)![1];
        const insider = await server.graphql(query, { as: 'eu-admin', variables: { input } });
        expect({ name, input, errors: errorsOf(insider) }).toEqual({ name, input, errors: [{ path: [name], code: insiderCode }] });
        const outsiders = ['globex-admin', 'parent-admin', 'stranger'];
        const answers = await Promise.all(outsiders.map((as) => server.graphql(query, { as, variables: { input } })));
        for (const [index, outsider] of answers.entries()) {
          const as = outsiders[index];
          expect({ name, as, input, errors: errorsOf(outsider) }).toEqual({ name, as, input, errors: [{ path: [name], code: 'FORBIDDEN' }] });
        }
      }
      expect(await snapshot()).toEqual(before);
    });

    describe('on unknown or malformed ids', () => {
      const UNKNOWN: { name: MutationCase['name']; query: string; input: Record<string, unknown> }[] = [
        { name: 'updateModelSettings', query: UPDATE, input: { organizationId: UNKNOWN_ID, primaryModelId: 'claude-haiku-4-5' } },
        { name: 'clearModelSettings', query: CLEAR, input: { organizationId: UNKNOWN_ID } },
        { name: 'createAgent', query: CREATE_AGENT, input: { organizationId: UNKNOWN_ID, name: 'Ghost bot' } },
        { name: 'setAgentModel', query: SET_AGENT_MODEL, input: { agentId: UNKNOWN_ID, model: 'haiku' } },
      ];

      it.each(UNKNOWN)(
        'refuses $name on an unknown id with FORBIDDEN to non-operators (no existence oracle), NOT_FOUND to an operator, and changes nothing',
        async ({ name, query, input }) => {
          const before = await snapshot();
          for (const as of ['eu-member', 'eu-admin', 'stranger', 'mixed']) {
            const result = await server.graphql(query, { as, variables: { input } });
            expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: null, errors: [{ path: [name], code: 'FORBIDDEN' }] });
          }
          const operator = await server.graphql(query, { as: OPERATOR, variables: { input } });
          expect(operator.data).toBeNull();
          expect(errorsOf(operator)).toEqual([{ path: [name], code: 'NOT_FOUND' }]);
          expect(await snapshot()).toEqual(before);
        },
      );

      it.each(UNKNOWN)(
        'answers $name on a malformed id with BAD_USER_INPUT when signed in, UNAUTHENTICATED without a token, and changes nothing',
        async ({ name, query, input }) => {
          const malformed = Object.fromEntries(Object.entries(input).map(([field, value]) => [field, value === UNKNOWN_ID ? 'not-a-uuid' : value]));
          const before = await snapshot();
          for (const as of ['eu-member', 'stranger', OPERATOR]) {
            const result = await server.graphql(query, { as, variables: { input: malformed } });
            expect(result.data).toBeNull();
            expect(errorsOf(result)).toEqual([{ path: [name], code: 'BAD_USER_INPUT' }]);
          }
          const anonymous = await server.graphql(query, { variables: { input: malformed } });
          expect(errorsOf(anonymous)).toEqual([{ path: [name], code: 'UNAUTHENTICATED' }]);
          expect(await snapshot()).toEqual(before);
        },
      );

      it('applies the same rules to ids written in upper case', async () => {
        const before = await snapshot();
        const upperOrg = org('acmeEu').id.toUpperCase();
        const upperAgent = agentId('EU bot').toUpperCase();
        const refused = [
          await server.graphql(UPDATE, { as: 'eu-member', variables: { input: { ...settingsInput('acmeEu'), organizationId: upperOrg } } }),
          await server.graphql(CLEAR, { as: 'parent-admin', variables: { input: { organizationId: upperOrg } } }),
          await server.graphql(CREATE_AGENT, { as: 'globex-admin', variables: { input: { organizationId: upperOrg, name: 'Intruder bot' } } }),
          await server.graphql(SET_AGENT_MODEL, { as: 'sales-member', variables: { input: { agentId: upperAgent, model: 'haiku' } } }),
        ];
        expect(refused.map(errorsOf)).toEqual(
          ['updateModelSettings', 'clearModelSettings', 'createAgent', 'setAgentModel'].map((name) => [{ path: [name], code: 'FORBIDDEN' }]),
        );
        expect(await snapshot()).toEqual(before);

        const repinned = await server.graphql(SET_AGENT_MODEL, { as: 'eu-member', variables: { input: { agentId: upperAgent, model: 'haiku' } } });
        expect(repinned.errors).toBeUndefined();
        expect(repinned.data?.setAgentModel).toMatchObject({ id: agentId('EU bot'), model: { model: { id: 'claude-haiku-4-5' } } });
        await restorePin('EU bot');
      });
    });

    /** Puts an agent back on its fixture pin, straight in the table. */
    async function restorePin(name: string) {
      const spec = specOf(name);
      await server.dataSource.getRepository(AgentEntity).update({ id: agentId(name) }, { modelId: spec.modelId, billing: spec.billing });
    }

    /** Puts an organization's settings back as the fixture made them (or removes them where it made none). */
    async function restoreSettings(key: OrgKey) {
      await server.dataSource.getRepository(ModelSettingsEntity).delete({ organizationId: org(key).id });
      const settings = SETTINGS[key];
      if (settings) await makeModelSettings(server.dataSource, org(key), settings);
    }

    describe('callers who have the right', () => {
      /** The cases, with the name of their organization for the titles. */
      const withTargetName = (cases: { label: string; as: As; target: OrgKey }[]) =>
        cases.map((caller) => ({ ...caller, targetName: ORG_NAMES[caller.target] }));

      const SETTINGS_ALLOWED = withTargetName([
        { label: 'an operator', as: OPERATOR, target: 'acmeEu' },
        { label: 'an admin of the organization', as: 'eu-admin', target: 'acmeEu' },
        { label: 'an admin of a parent organization, on that organization', as: 'parent-admin', target: 'acme' },
        { label: 'an admin of an organization without settings', as: 'globex-admin', target: 'globex' },
        { label: 'an admin of one organization who is a member of another, on the one it administers', as: 'mixed', target: 'hooli' },
      ]);

      it.each(SETTINGS_ALLOWED)(
        'lets $label update and clear the settings of $targetName with the input refused to others, and audits both',
        async ({ as, target }) => {
          const id = org(target).id;
          const stored = await settingsView(target);
          const version = stored?.version ?? 0;
          const last = await lastAuditPosition();
          const input = settingsInput(target);

          const updated = await server.graphql(UPDATE, { as, variables: { input: { ...input, expectedVersion: version } } });
          expect(updated.errors).toBeUndefined();
          expect(updated.data?.updateModelSettings).toEqual({
            settings: {
              primaryModel: { id: input.primaryModelId },
              fallbackModel: { id: input.fallbackModelId },
              exclusive: true,
              offerToSubOrganizations: false,
              version: version + 1,
              updatedBy: actorOf(as),
            },
            effectiveModels: { source: 'OWN', exclusive: true, primary: { model: { id: input.primaryModelId }, billing: 'PROVIDER_ACCOUNT' } },
          });
          expect(await settingsView(target)).toMatchObject({ primaryModel: { id: input.primaryModelId }, version: version + 1, updatedBy: actorOf(as) });

          const cleared = await server.graphql(CLEAR, { as, variables: { input: { organizationId: id, expectedVersion: version + 1 } } });
          expect(cleared.errors).toBeUndefined();
          expect(cleared.data?.clearModelSettings).toEqual({ id, name: ORG_NAMES[target] });
          expect(await settingsView(target)).toBeNull();

          expect(await auditSince(last)).toEqual(
            ['MODEL_SETTINGS_UPDATED', 'MODEL_SETTINGS_CLEARED'].map((action) => ({ organization_id: id, actor_id: actorOf(as), action })),
          );
          await restoreSettings(target);
        },
      );

      const AGENTS_ALLOWED = withTargetName([
        { label: 'an operator', as: OPERATOR, target: 'acmeEu' },
        { label: 'an admin of the organization', as: 'eu-admin', target: 'acmeEu' },
        { label: 'a member of the organization', as: 'eu-member', target: 'acmeEu' },
        { label: 'a member of a sub-organization, on that sub-organization', as: 'sales-member', target: 'sales' },
        { label: 'an admin of a parent organization, on that organization', as: 'parent-admin', target: 'acme' },
        { label: 'a member of another organization, on that organization', as: 'hooli-member', target: 'hooli' },
        { label: 'an admin of one organization who is a member of another, on the one it administers', as: 'mixed', target: 'hooli' },
        { label: 'an admin of one organization who is a member of another, on the one it is a member of', as: 'mixed', target: 'umbrella' },
      ]);

      it.each(AGENTS_ALLOWED)(
        'lets $label create an agent in $targetName and re-pin one of its agents with the input refused to others, and audits both',
        async ({ as, target }) => {
          const id = org(target).id;
          const last = await lastAuditPosition();

          const created = await server.graphql(CREATE_AGENT, { as, variables: { input: createInput(target) } });
          expect(created.errors).toBeUndefined();
          const primary = (effectiveView(target) as { primary: { model: { id: string }; billing: string } }).primary;
          expect(created.data?.createAgent).toEqual({
            id: expect.any(String),
            name: 'Intruder bot',
            organization: { id },
            model: { model: primary.model, billing: primary.billing },
            modelAvailable: true,
          });
          const createdId: string = created.data?.createAgent.id;
          const rows = await server.dataSource.query(`SELECT organization_id, name, model_id FROM agent WHERE id = $1`, [createdId]);
          expect(rows).toEqual([{ organization_id: id, name: 'Intruder bot', model_id: primary.model.id }]);

          const { agent, model } = REPIN[target];
          const repinned = await server.graphql(SET_AGENT_MODEL, { as, variables: { input: repinInput(target) } });
          expect(repinned.errors).toBeUndefined();
          expect(repinned.data?.setAgentModel).toMatchObject({ id: agentId(agent), name: agent });
          const [pin] = await server.dataSource.query(`SELECT model_id FROM agent WHERE id = $1`, [agentId(agent)]);
          expect(pin.model_id).not.toBe(specOf(agent).modelId);
          expect(pin.model_id).toBe(repinned.data?.setAgentModel.model.model.id);
          expect(repinned.data?.setAgentModel.model.model.id).toMatch(new RegExp(model === 'mini' ? '^gpt-5-mini$' : `^claude-${model}-`));

          expect(await auditSince(last)).toEqual(
            ['AGENT_CREATED', 'AGENT_MODEL_CHANGED'].map((action) => ({ organization_id: id, actor_id: actorOf(as), action })),
          );
          await server.dataSource.getRepository(AgentEntity).delete({ id: createdId });
          await restorePin(agent);
        },
      );
    });
  });
});
