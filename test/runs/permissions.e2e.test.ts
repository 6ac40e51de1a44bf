import { catalog } from '../../src/catalog/catalog';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import {
  actorOf,
  type As,
  CALLERS,
  canSee,
  errorsOf,
  expected,
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
} from '../support/permission-tree';
import { makeTestKey, standInEnv, startProviderStandIn, type ProviderStandIn } from '../support/provider-stand-in';
import { snapshotTables } from '../support/snapshot';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Who may run agents, read runs, read an organization's usage and upload files (DESIGN.md
 * sections 2 and 7), over real HTTP against the provider stand-in: every new operation and field,
 * for every kind of caller, straight and through `_entities`. A refused call must reach no provider
 * and write no row.
 *
 * The tree (the same as test/auth/permissions.e2e.test.ts; "the organization" is Acme EU). No
 * organization has settings or connections, so each runs the platform's claude-sonnet-4-6 on the
 * platform's Anthropic key. beforeAll makes one agent ("<name> bot") and one run of it in each
 * organization, through the API, as the operator `ops`:
 *
 *   Acme            parent-admin (ADMIN)
 *   ├── Acme EU     eu-admin (ADMIN), eu-member (MEMBER)
 *   │   └── Acme EU Sales   sales-member (MEMBER)
 *   └── Acme US     us-member (MEMBER)
 *   Globex          globex-admin (ADMIN)
 *   Hooli           mixed (ADMIN), hooli-member (MEMBER)
 *   Umbrella        mixed (MEMBER)
 *
 * `stranger` has a valid token and no membership. Usage is read over [usageFrom, usageTo), the
 * period of the beforeAll runs, so the runs the tests themselves make never change it.
 */

const UNKNOWN_ID = '00000000-0000-4000-8000-0000000000aa';
const PLATFORM_ANTHROPIC_KEY = makeTestKey('ANTHROPIC');
const PLATFORM_MODEL = 'claude-sonnet-4-6';

type RunField = 'agent' | 'status' | 'attempts' | 'servedBy' | 'output' | 'degradedFeatures' | 'error' | 'createdAt';
/** Every field of a Run but id, with the selection asked for; nullable ones are null on their own when denied, the others null the Run. */
const RUN_FIELD_SELECTIONS: Record<RunField, { selection: string; nullable: boolean }> = {
  agent: { selection: 'agent { id name }', nullable: false },
  status: { selection: 'status', nullable: false },
  attempts: {
    selection: 'attempts { model { id } provider billing outcome reason httpStatus latencyMs inputTokens outputTokens startedAt error { type } }',
    nullable: false,
  },
  servedBy: { selection: 'servedBy { model { id } billing connectionOwner { id } }', nullable: true },
  output: { selection: 'output { text toolCalls { name input } }', nullable: true },
  degradedFeatures: { selection: 'degradedFeatures', nullable: false },
  error: { selection: 'error { provider httpStatus type message }', nullable: true },
  createdAt: { selection: 'createdAt', nullable: false },
};
const RUN_FIELDS = Object.keys(RUN_FIELD_SELECTIONS) as RunField[];
const RUN_SELECTION = `id ${RUN_FIELDS.map((field) => RUN_FIELD_SELECTIONS[field].selection).join(' ')}`;
/** Only the nullable guarded fields: a denial leaves the Run and its id in place, one error per field. */
const NULLABLE_RUN_FIELDS = RUN_FIELDS.filter((field) => RUN_FIELD_SELECTIONS[field].nullable);

const CREATE_AGENT = `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id name } }`;
const RUN_AGENT = `mutation($input: RunAgentInput!) { runAgent(input: $input) { ${RUN_SELECTION} } }`;
const RUN = `query($id: ID!) { run(id: $id) { ${RUN_SELECTION} } }`;
const USAGE_SELECTION = 'usage(from: $from, to: $to) { provider model { id } billing runs inputTokens outputTokens platformCredits }';
const UPLOAD = `mutation($input: UploadFileInput!) { uploadFile(input: $input) { id provider billing owner { id } } }`;
const FILE = { filename: 'notes.txt', mimeType: 'text/plain', content: Buffer.from('Quarterly notes\n') };

describe('runs, usage and uploads: permissions (DESIGN.md sections 2 and 7)', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  let tree: PermissionTree;
  /** Raw Authorization headers that must never authenticate; each claims to be the operator `ops`. */
  let headers: RejectedAuthorizations;
  /** Each organization's agent, and the run of it made in beforeAll, as runAgent answered it (RUN_SELECTION). */
  const fixtures = new Map<OrgKey, { agentId: string; run: Record<string, any> }>();
  let usageFrom: string;
  let usageTo: string;

  const org = (key: OrgKey): OrganizationEntity => tree[key];
  const fixture = (key: OrgKey) => fixtures.get(key)!;
  const agentOf = (key: OrgKey) => fixture(key).agentId;
  const runOf = (key: OrgKey) => fixture(key).run;

  const runAgent = (as: As, agentId: string, content = 'Hello there', extra: Record<string, unknown> = {}) =>
    server.graphql(RUN_AGENT, { as, variables: { input: { agentId, messages: [{ role: 'USER', content }], ...extra } } });
  const readRun = (as: As, id: string) => server.graphql(RUN, { as, variables: { id } });
  const upload = (as: As, organizationId: string, overrides: Record<string, unknown> = {}) =>
    server.graphql(UPLOAD, {
      as,
      variables: {
        input: { organizationId, filename: FILE.filename, mimeType: FILE.mimeType, contentBase64: FILE.content.toString('base64'), ...overrides },
      },
    });
  const readOrganization = (as: As, id: string, selection: string, period = { from: usageFrom, to: usageTo }) =>
    server.graphql(`query($id: ID!, $from: DateTime!, $to: DateTime!) { organization(id: $id) { ${selection} } }`, {
      as,
      variables: { id, ...period },
    });
  const entities = (as: As, selection: string, representations: Record<string, string>[]) => {
    const period = selection.includes('$from') ? ', $from: DateTime!, $to: DateTime!' : '';
    return server.graphql(`query($r: [_Any!]!${period}) { _entities(representations: $r) { ${selection} } }`, {
      as,
      variables: { r: representations, ...(period ? { from: usageFrom, to: usageTo } : {}) },
    });
  };
  const runRepresentations = (keys: OrgKey[] = ORG_KEYS) => keys.map((key) => ({ __typename: 'Run', id: runOf(key).id }));
  const organizationRepresentations = (keys: OrgKey[] = ORG_KEYS) => keys.map((key) => ({ __typename: 'Organization', id: org(key).id }));

  /** What an admin reads of an organization's usage over the beforeAll period: its one platform run. */
  function usageOf(key: OrgKey) {
    const [attempt] = runOf(key).attempts;
    const rates = catalog.find(PLATFORM_MODEL)!.platformCreditsPerMillionTokens;
    return [
      {
        provider: 'ANTHROPIC',
        model: { id: PLATFORM_MODEL },
        billing: 'PLATFORM_CREDITS',
        runs: 1,
        inputTokens: attempt.inputTokens,
        outputTokens: attempt.outputTokens,
        platformCredits: (attempt.inputTokens * rates.input + attempt.outputTokens * rates.output) / 1_000_000,
      },
    ];
  }

  /** Everything runAgent and uploadFile could change, in one statement, to compare before and after a call. */
  const snapshot = () =>
    snapshotTables(server.dataSource, {
      runs: { select: 'SELECT id, organization_id, agent_id, requested_by, status, served_by_model_id FROM run', order: 'id' },
      attempts: { select: 'SELECT run_id, position, organization_id, model_id, billing, outcome FROM run_attempt', order: 'run_id, position' },
      agents: { select: 'SELECT id, organization_id, name, model_id, billing, updated_at FROM agent', order: 'id' },
      connections: { select: 'SELECT id, organization_id, provider, status, updated_at FROM provider_connection', order: 'id' },
      auditEvents: { select: 'SELECT id, organization_id, actor_id, action, position FROM audit_event', order: 'position' },
    });
  type Snapshot = Awaited<ReturnType<typeof snapshot>>;

  /** The provider calls the stand-in saw since the last reset. */
  const providerCalls = () => standIn.requests.map(({ provider, method, path, apiKey, model }) => ({ provider, method, path, apiKey, model }));

  beforeAll(async () => {
    standIn = await startProviderStandIn({ acceptKeys: [PLATFORM_ANTHROPIC_KEY] });
    server = await startTestServer(standInEnv(standIn, { platformAnthropicKey: PLATFORM_ANTHROPIC_KEY }));
    tree = await makePermissionTree(server.dataSource);
    usageFrom = new Date(Date.now() - 60_000).toISOString();
    for (const [index, key] of ORG_KEYS.entries()) {
      const created = await server.graphql(CREATE_AGENT, { as: OPERATOR, variables: { input: { organizationId: org(key).id, name: `${ORG_NAMES[key]} bot` } } });
      if (created.errors) throw new Error(`Creating ${ORG_NAMES[key]}'s agent failed: ${JSON.stringify(created.errors)}`);
      const agentId: string = created.data?.createAgent.id;
      // A longer message in each organization, so that each has its own token counts in its usage.
      const ran = await runAgent(OPERATOR, agentId, `Hello from ${ORG_NAMES[key]}.${' Again.'.repeat(index * 3)}`);
      if (ran.errors || ran.data?.runAgent.status !== 'SUCCEEDED') {
        throw new Error(`Running ${ORG_NAMES[key]}'s agent failed: ${JSON.stringify(ran.errors ?? ran.data)}`);
      }
      fixtures.set(key, { agentId, run: ran.data.runAgent });
    }
    usageTo = new Date().toISOString();
    headers = await makeRejectedAuthorizations(server);
  });
  beforeEach(() => standIn.reset());
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });

  it('starts from one platform run per organization, each on its own agent, with distinct token counts', () => {
    const runs = ORG_KEYS.map(runOf);
    expect(runs.map((run) => [run.agent.id, run.status, run.servedBy])).toEqual(
      ORG_KEYS.map((key) => [agentOf(key), 'SUCCEEDED', { model: { id: PLATFORM_MODEL }, billing: 'PLATFORM_CREDITS', connectionOwner: null }]),
    );
    expect(new Set(runs.map((run) => run.id)).size).toBe(ORG_KEYS.length);
    expect(new Set(runs.map((run) => run.attempts[0].inputTokens)).size).toBe(ORG_KEYS.length);
  });

  /** Callers without a valid token: UNAUTHENTICATED, whatever their token claims. */
  const UNAUTHENTICATED = unauthenticatedCallers(() => headers);

  describe('without a valid token', () => {
    describe.each(UNAUTHENTICATED)('$label', ({ as, message }) => {
      it('is refused runAgent with UNAUTHENTICATED: no data, no provider call, no row', async () => {
        const before = await snapshot();
        const result = await runAgent(as(), agentOf('acmeEu'));
        expect(result.status).toBe(200);
        // runAgent is non-null: the error nulls the whole data.
        expect(result.data).toBeNull();
        expect(errorsOf(result)).toEqual([{ path: ['runAgent'], code: 'UNAUTHENTICATED' }]);
        expect(result.errors?.[0].message).toMatch(message);
        expect(standIn.requests).toEqual([]);
        expect(await snapshot()).toEqual(before);
      });

      it('is refused uploadFile with UNAUTHENTICATED: no data, no provider call', async () => {
        const before = await snapshot();
        const result = await upload(as(), org('acmeEu').id);
        expect(result.status).toBe(200);
        expect(result.data).toBeNull();
        expect(errorsOf(result)).toEqual([{ path: ['uploadFile'], code: 'UNAUTHENTICATED' }]);
        expect(result.errors?.[0].message).toMatch(message);
        expect(standIn.requests).toEqual([]);
        expect(await snapshot()).toEqual(before);
      });

      it('is refused run(id) with UNAUTHENTICATED and no data', async () => {
        const result = await readRun(as(), runOf('acmeEu').id);
        expect(result.status).toBe(200);
        expect(result.data).toEqual({ run: null });
        expect(errorsOf(result)).toEqual([{ path: ['run'], code: 'UNAUTHENTICATED' }]);
        expect(result.errors?.[0].message).toMatch(message);
        expect(JSON.stringify(result)).not.toContain(runOf('acmeEu').output.text);
      });

      it("is refused an organization's usage with UNAUTHENTICATED and no data", async () => {
        const result = await readOrganization(as(), org('acmeEu').id, `id name ${USAGE_SELECTION}`);
        expect(result.status).toBe(200);
        expect(result.data).toEqual({ organization: null });
        expect(errorsOf(result)).toEqual([{ path: ['organization'], code: 'UNAUTHENTICATED' }]);
      });

      it('gets no entity through _entities: one UNAUTHENTICATED error for the field', async () => {
        const result = await entities(
          as(),
          `... on Run { id output { text } servedBy { billing } } ... on Organization { id ${USAGE_SELECTION} }`,
          [...runRepresentations(['acmeEu', 'globex']), ...organizationRepresentations(['acmeEu'])],
        );
        // Refused for the field before any reference is read (test/auth/entities-limits.e2e.test.ts).
        expect(result.data).toBeNull();
        expect(errorsOf(result)).toEqual([{ path: ['_entities'], code: 'UNAUTHENTICATED' }]);
        expect(JSON.stringify(result)).not.toContain(runOf('acmeEu').output.text);
      });
    });
  });

  describe('Mutation.runAgent: members and admins of the agent\'s organization, and operators', () => {
    /** The rows a successful call added; the rows that were there must be untouched. */
    function addedRows(before: Snapshot, after: Snapshot) {
      const runIds = new Set(before.runs.map((row) => row.id));
      expect(after.runs.filter((row) => runIds.has(row.id))).toEqual(before.runs);
      expect(after.attempts.filter((row) => runIds.has(row.run_id))).toEqual(before.attempts);
      expect({ agents: after.agents, connections: after.connections, auditEvents: after.auditEvents }).toEqual({
        agents: before.agents,
        connections: before.connections,
        auditEvents: before.auditEvents,
      });
      return {
        runs: after.runs.filter((row) => !runIds.has(row.id)),
        attempts: after.attempts.filter((row) => !runIds.has(row.run_id)),
      };
    }

    it.each(CALLERS)(
      'runs the agents of exactly the organizations $label belongs to; elsewhere FORBIDDEN, with no provider call and no row',
      async (caller) => {
        const actor = actorOf(caller.as);
        for (const key of ORG_KEYS) {
          standIn.reset();
          const before = await snapshot();
          const content = `Run by ${actor} in ${ORG_NAMES[key]}`;
          const result = await runAgent(caller.as, agentOf(key), content);
          if (isMember(caller, key)) {
            expect({ key, errors: result.errors }).toEqual({ key, errors: undefined });
            const run = result.data?.runAgent;
            expect(run).toMatchObject({
              status: 'SUCCEEDED',
              agent: { id: agentOf(key), name: `${ORG_NAMES[key]} bot` },
              servedBy: { model: { id: PLATFORM_MODEL }, billing: 'PLATFORM_CREDITS', connectionOwner: null },
              output: { text: `Echo: ${content}`, toolCalls: [] },
              error: null,
              degradedFeatures: [],
            });
            expect(providerCalls()).toEqual([
              { provider: 'ANTHROPIC', method: 'POST', path: '/v1/messages', apiKey: PLATFORM_ANTHROPIC_KEY, model: PLATFORM_MODEL },
            ]);
            const added = addedRows(before, await snapshot());
            expect({ key, ...added }).toEqual({
              key,
              runs: [{ id: run.id, organization_id: org(key).id, agent_id: agentOf(key), requested_by: actor, status: 'SUCCEEDED', served_by_model_id: PLATFORM_MODEL }],
              attempts: [{ run_id: run.id, position: 1, organization_id: org(key).id, model_id: PLATFORM_MODEL, billing: 'PLATFORM_CREDITS', outcome: 'SUCCEEDED' }],
            });
          } else {
            expect({ key, data: result.data, errors: errorsOf(result) }).toEqual({ key, data: null, errors: [{ path: ['runAgent'], code: 'FORBIDDEN' }] });
            expect(result.errors?.[0].message).toMatch(/members/);
            expect({ key, calls: providerCalls() }).toEqual({ key, calls: [] });
            expect({ key, rows: await snapshot() }).toEqual({ key, rows: before });
          }
        }
      },
    );

    it('refuses outsiders with FORBIDDEN even when the request itself is malformed, and tells a member BAD_USER_INPUT', async () => {
      const malformed = { messages: [] as unknown[] };
      const before = await snapshot();
      for (const as of ['globex-admin', 'parent-admin', 'sales-member', 'stranger']) {
        const result = await server.graphql(RUN_AGENT, { as, variables: { input: { agentId: agentOf('acmeEu'), ...malformed } } });
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: null, errors: [{ path: ['runAgent'], code: 'FORBIDDEN' }] });
      }
      const member = await server.graphql(RUN_AGENT, { as: 'eu-member', variables: { input: { agentId: agentOf('acmeEu'), ...malformed } } });
      expect(member.data).toBeNull();
      expect(errorsOf(member)).toEqual([{ path: ['runAgent'], code: 'BAD_USER_INPUT' }]);
      expect(member.errors?.[0].extensions.field).toBe('input.messages');
      expect(standIn.requests).toEqual([]);
      expect(await snapshot()).toEqual(before);
    });

    it('answers an unknown agent id with the same FORBIDDEN as a forbidden one to non-operators, and NOT_FOUND to an operator, before any provider call', async () => {
      const before = await snapshot();
      for (const as of ['eu-member', 'eu-admin', 'stranger', 'mixed']) {
        const result = await runAgent(as, UNKNOWN_ID);
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: null, errors: [{ path: ['runAgent'], code: 'FORBIDDEN' }] });
        // Indistinguishable from an existing agent of another organization.
        const forbidden = await runAgent(as, agentOf('globex'));
        expect(errorsOf(forbidden)).toEqual(errorsOf(result));
        expect(forbidden.errors?.[0].message).toBe(result.errors?.[0].message);
      }
      const operator = await runAgent(OPERATOR, UNKNOWN_ID);
      expect(operator.data).toBeNull();
      expect(errorsOf(operator)).toEqual([{ path: ['runAgent'], code: 'NOT_FOUND' }]);
      expect(standIn.requests).toEqual([]);
      expect(await snapshot()).toEqual(before);
    });

    it('answers a malformed agent id with BAD_USER_INPUT when signed in, and UNAUTHENTICATED without a token, before any provider call', async () => {
      const before = await snapshot();
      for (const as of ['eu-admin', 'eu-member', 'stranger', OPERATOR] as As[]) {
        const result = await runAgent(as, 'not-a-uuid');
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: null, errors: [{ path: ['runAgent'], code: 'BAD_USER_INPUT' }] });
        expect(result.errors?.[0].extensions.field).toBe('input.agentId');
      }
      const anonymous = await runAgent(undefined, 'not-a-uuid');
      expect(anonymous.data).toBeNull();
      expect(errorsOf(anonymous)).toEqual([{ path: ['runAgent'], code: 'UNAUTHENTICATED' }]);
      expect(standIn.requests).toEqual([]);
      expect(await snapshot()).toEqual(before);
    });

    it('applies the same rules to an agent id written in upper case', async () => {
      const upper = agentOf('acmeEu').toUpperCase();
      const before = await snapshot();
      for (const as of ['parent-admin', 'globex-admin']) {
        const refused = await runAgent(as, upper);
        expect({ as, data: refused.data, errors: errorsOf(refused) }).toEqual({ as, data: null, errors: [{ path: ['runAgent'], code: 'FORBIDDEN' }] });
      }
      expect(standIn.requests).toEqual([]);
      expect(await snapshot()).toEqual(before);

      const allowed = await runAgent('eu-member', upper);
      expect(allowed.errors).toBeUndefined();
      expect(allowed.data?.runAgent).toMatchObject({ status: 'SUCCEEDED', agent: { id: agentOf('acmeEu') } });
      expect(providerCalls()).toHaveLength(1);
      const rows = await server.dataSource.query(`SELECT organization_id, agent_id, requested_by FROM run WHERE id = $1`, [allowed.data?.runAgent.id]);
      expect(rows).toEqual([{ organization_id: org('acmeEu').id, agent_id: agentOf('acmeEu'), requested_by: 'eu-member' }]);
    });
  });

  describe("Query.run(id): members and admins of the run's organization, and operators", () => {
    it.each(CALLERS)('answers $label the runs of exactly the organizations it belongs to, as runAgent did; FORBIDDEN elsewhere', async (caller) => {
      const results = await Promise.all(ORG_KEYS.map((key) => readRun(caller.as, runOf(key).id)));
      for (const [index, key] of ORG_KEYS.entries()) {
        const result = results[index];
        if (isMember(caller, key)) {
          expect({ key, errors: result.errors }).toEqual({ key, errors: undefined });
          expect(result.data?.run).toEqual(runOf(key));
        } else {
          expect({ key, data: result.data, errors: errorsOf(result) }).toEqual({ key, data: { run: null }, errors: [{ path: ['run'], code: 'FORBIDDEN' }] });
          expect(result.errors?.[0].message).toMatch(/members/);
          expect(JSON.stringify(result)).not.toContain(runOf(key).output.text);
        }
      }
    });

    it('answers an unknown run id with the same FORBIDDEN as a forbidden one to non-operators, and NOT_FOUND to an operator', async () => {
      for (const as of ['eu-member', 'eu-admin', 'stranger', 'mixed']) {
        const result = await readRun(as, UNKNOWN_ID);
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: { run: null }, errors: [{ path: ['run'], code: 'FORBIDDEN' }] });
        const forbidden = await readRun(as, runOf('globex').id);
        expect(errorsOf(forbidden)).toEqual(errorsOf(result));
        expect(forbidden.errors?.[0].message).toBe(result.errors?.[0].message);
      }
      const operator = await readRun(OPERATOR, UNKNOWN_ID);
      expect(operator.data).toEqual({ run: null });
      expect(errorsOf(operator)).toEqual([{ path: ['run'], code: 'NOT_FOUND' }]);
    });

    it('answers a malformed run id with BAD_USER_INPUT when signed in, and UNAUTHENTICATED without a token', async () => {
      for (const as of ['eu-member', 'stranger', OPERATOR] as As[]) {
        const result = await readRun(as, 'not-a-uuid');
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: { run: null }, errors: [{ path: ['run'], code: 'BAD_USER_INPUT' }] });
        expect(result.errors?.[0].extensions.field).toBe('id');
      }
      const anonymous = await readRun(undefined, 'not-a-uuid');
      expect(anonymous.data).toEqual({ run: null });
      expect(errorsOf(anonymous)).toEqual([{ path: ['run'], code: 'UNAUTHENTICATED' }]);
    });

    it('lets every member of the organization read a run another member made, and no one of the parent or the sub-organization', async () => {
      const made = await runAgent('eu-member', agentOf('acmeEu'), 'Made by a member');
      expect(made.errors).toBeUndefined();
      const run = made.data?.runAgent;
      for (const as of ['eu-member', 'eu-admin', OPERATOR] as As[]) {
        const read = await readRun(as, run.id);
        expect({ as, errors: read.errors, run: read.data?.run }).toEqual({ as, errors: undefined, run });
      }
      for (const as of ['parent-admin', 'sales-member', 'us-member']) {
        const read = await readRun(as, run.id);
        expect({ as, data: read.data, errors: errorsOf(read) }).toEqual({ as, data: { run: null }, errors: [{ path: ['run'], code: 'FORBIDDEN' }] });
      }
    });
  });

  describe('Run fetched by reference (_entities): id with any valid token, every other field for members of its organization', () => {
    it('shows every field of every run to an operator, as runAgent answered it', async () => {
      const result = await entities(OPERATOR, `... on Run { ${RUN_SELECTION} }`, runRepresentations());
      expect(result.errors).toBeUndefined();
      expect(result.data?._entities).toEqual(ORG_KEYS.map(runOf));
    });

    it('shows a signed-in user with no membership the id of every run, and nothing else', async () => {
      const ids = await entities('stranger', '... on Run { id }', runRepresentations());
      expect(ids.errors).toBeUndefined();
      expect(ids.data?._entities).toEqual(ORG_KEYS.map((key) => ({ id: runOf(key).id })));
    });

    it.each(CALLERS)(
      "gives $label the nullable fields of its organizations' runs and, on the others, null for each with its own FORBIDDEN (the runs and their ids still arrive)",
      async (caller) => {
        const selection = `... on Run { id ${NULLABLE_RUN_FIELDS.map((field) => RUN_FIELD_SELECTIONS[field].selection).join(' ')} }`;
        const result = await entities(caller.as, selection, runRepresentations());
        expect(result.data?._entities).toEqual(
          ORG_KEYS.map((key) => ({
            id: runOf(key).id,
            ...Object.fromEntries(NULLABLE_RUN_FIELDS.map((field) => [field, isMember(caller, key) ? runOf(key)[field] : null])),
          })),
        );
        expect(errorsOf(result)).toEqual(
          expected(
            ORG_KEYS.flatMap((key, index) =>
              isMember(caller, key) ? [] : NULLABLE_RUN_FIELDS.map((field) => ({ path: ['_entities', index, field], code: 'FORBIDDEN' })),
            ),
          ),
        );
      },
    );

    it.each(CALLERS)(
      "gives $label the status of its organizations' runs; a forbidden status (non-null) nulls that run alone, with FORBIDDEN at its status",
      async (caller) => {
        const result = await entities(caller.as, '... on Run { id status }', runRepresentations());
        expect(result.data?._entities).toEqual(ORG_KEYS.map((key) => (isMember(caller, key) ? { id: runOf(key).id, status: 'SUCCEEDED' } : null)));
        expect(errorsOf(result)).toEqual(
          expected(ORG_KEYS.flatMap((key, index) => (isMember(caller, key) ? [] : [{ path: ['_entities', index, 'status'], code: 'FORBIDDEN' }]))),
        );
      },
    );

    it.each(RUN_FIELDS.map((field) => ({ field, ...RUN_FIELD_SELECTIONS[field] })))(
      "guards Run.$field: an admin of the parent gets it on the parent's run, and FORBIDDEN on the sub-organization's run in the same answer",
      async ({ field, selection, nullable }) => {
        const result = await entities('parent-admin', `... on Run { id ${selection} }`, runRepresentations(['acme', 'acmeEu', 'sales']));
        const denied = (key: OrgKey) => (nullable ? { id: runOf(key).id, [field]: null } : null);
        expect(result.data?._entities).toEqual([{ id: runOf('acme').id, [field]: runOf('acme')[field] }, denied('acmeEu'), denied('sales')]);
        expect(errorsOf(result)).toEqual(
          expected([
            { path: ['_entities', 1, field], code: 'FORBIDDEN' },
            { path: ['_entities', 2, field], code: 'FORBIDDEN' },
          ]),
        );
        expect(result.errors?.[0].message).toMatch(/members/);
      },
    );

    it('shows an admin of one organization who is a member of another every field of both runs, whatever the order, with a forbidden run between them', async () => {
      const result = await entities('mixed', `... on Run { ${RUN_SELECTION} }`, runRepresentations(['umbrella', 'acmeEu', 'hooli']));
      expect(result.data?._entities).toEqual([runOf('umbrella'), null, runOf('hooli')]);
      // Every guarded field of the forbidden run is FORBIDDEN; the first non-null one nulls it, so
      // how many more report before that depends on timing.
      const errors = errorsOf(result);
      expect(errors.length).toBeGreaterThanOrEqual(1);
      for (const error of errors) {
        expect(error.code).toBe('FORBIDDEN');
        expect(error.path?.slice(0, 2)).toEqual(['_entities', 1]);
        expect(RUN_FIELDS).toContain(error.path?.[2]);
      }
    });
  });

  describe('Organization.usage: admins of the organization and operators only', () => {
    it('sums the beforeAll run of each organization for an operator, and nothing outside the period', async () => {
      const results = await Promise.all(ORG_KEYS.map((key) => readOrganization(OPERATOR, org(key).id, `name ${USAGE_SELECTION}`)));
      for (const [index, key] of ORG_KEYS.entries()) {
        expect({ key, errors: results[index].errors }).toEqual({ key, errors: undefined });
        expect(results[index].data?.organization).toEqual({ name: ORG_NAMES[key], usage: usageOf(key) });
      }
      // Not vacuous: an earlier period holds nothing.
      const earlier = await readOrganization(OPERATOR, org('acmeEu').id, USAGE_SELECTION, {
        from: new Date(Date.parse(usageFrom) - 3_600_000).toISOString(),
        to: usageFrom,
      });
      expect(earlier.data?.organization).toEqual({ usage: [] });
    });

    /** Callers who may see Acme EU's id and name (so organization(id) answers them), and whether they get its usage. */
    const READERS: { label: string; as: As; granted: boolean }[] = CALLERS.filter((caller) => canSee(caller, 'acmeEu')).map((caller) => ({
      label: caller.label,
      as: caller.as,
      granted: isAdmin(caller, 'acmeEu'),
    }));
    /** Callers who may not see Acme EU at all. */
    const OUTSIDERS = CALLERS.filter((caller) => !canSee(caller, 'acmeEu'));

    it.each(READERS)('$label reading Acme EU: usage granted is $granted; a denial is FORBIDDEN on usage alone', async ({ as, granted }) => {
      const result = await readOrganization(as, org('acmeEu').id, `id name ${USAGE_SELECTION}`);
      if (granted) {
        expect(result.errors).toBeUndefined();
        expect(result.data?.organization).toEqual({ id: org('acmeEu').id, name: 'Acme EU', usage: usageOf('acmeEu') });
      } else {
        // usage is nullable: null on its own, and the siblings id and name still arrive.
        expect(result.data?.organization).toEqual({ id: org('acmeEu').id, name: 'Acme EU', usage: null });
        expect(errorsOf(result)).toEqual([{ path: ['organization', 'usage'], code: 'FORBIDDEN' }]);
        expect(result.errors?.[0].message).toMatch(/admins/);
      }
    });

    it.each(OUTSIDERS)('gives $label nothing of Acme EU: the organization itself is FORBIDDEN', async ({ as }) => {
      const result = await readOrganization(as, org('acmeEu').id, `id name ${USAGE_SELECTION}`);
      expect(result.data).toEqual({ organization: null });
      expect(errorsOf(result)).toEqual([{ path: ['organization'], code: 'FORBIDDEN' }]);
    });

    it.each(CALLERS)(
      'gives $label through _entities the usage of exactly the organizations it administers; the others are null with FORBIDDEN',
      async (caller) => {
        const result = await entities(caller.as, `... on Organization { id ${USAGE_SELECTION} }`, organizationRepresentations());
        expect(result.data?._entities).toEqual(ORG_KEYS.map((key) => ({ id: org(key).id, usage: isAdmin(caller, key) ? usageOf(key) : null })));
        expect(errorsOf(result)).toEqual(
          expected(ORG_KEYS.flatMap((key, index) => (isAdmin(caller, key) ? [] : [{ path: ['_entities', index, 'usage'], code: 'FORBIDDEN' }]))),
        );
      },
    );

    it('denies a member the usage with FORBIDDEN even when the period is malformed, and tells an admin it is BAD_USER_INPUT', async () => {
      const backwards = { from: usageTo, to: usageFrom };
      const member = await readOrganization('eu-member', org('acmeEu').id, `name ${USAGE_SELECTION}`, backwards);
      expect(member.data).toEqual({ organization: { name: 'Acme EU', usage: null } });
      expect(errorsOf(member)).toEqual([{ path: ['organization', 'usage'], code: 'FORBIDDEN' }]);
      const admin = await readOrganization('eu-admin', org('acmeEu').id, `name ${USAGE_SELECTION}`, backwards);
      expect(admin.data).toEqual({ organization: { name: 'Acme EU', usage: null } });
      expect(errorsOf(admin)).toEqual([{ path: ['organization', 'usage'], code: 'BAD_USER_INPUT' }]);
    });

    it("denies an admin of the parent organization the sub-organizations' usage, while its own and their names arrive", async () => {
      const result = await readOrganization('parent-admin', org('acme').id, `name ${USAGE_SELECTION} subOrganizations { name ${USAGE_SELECTION} }`);
      expect(result.data?.organization).toEqual({
        name: 'Acme',
        usage: usageOf('acme'),
        subOrganizations: [
          { name: 'Acme EU', usage: null },
          { name: 'Acme US', usage: null },
        ],
      });
      expect(errorsOf(result)).toEqual(
        expected([
          { path: ['organization', 'subOrganizations', 0, 'usage'], code: 'FORBIDDEN' },
          { path: ['organization', 'subOrganizations', 1, 'usage'], code: 'FORBIDDEN' },
        ]),
      );
    });

    it("denies an admin of the organization its parent's usage, while its own and the parent's name arrive", async () => {
      const result = await readOrganization('eu-admin', org('acmeEu').id, `${USAGE_SELECTION} parent { name ${USAGE_SELECTION} }`);
      expect(result.data?.organization).toEqual({ usage: usageOf('acmeEu'), parent: { name: 'Acme', usage: null } });
      expect(errorsOf(result)).toEqual([{ path: ['organization', 'parent', 'usage'], code: 'FORBIDDEN' }]);
    });

    it("lists the caller's organizations with usage only where the caller is an admin (siblings in the list still arrive)", async () => {
      const result = await server.graphql(`query($from: DateTime!, $to: DateTime!) { viewer { organizations { name viewerRole ${USAGE_SELECTION} } } }`, {
        as: 'mixed',
        variables: { from: usageFrom, to: usageTo },
      });
      expect(result.data?.viewer.organizations).toEqual([
        { name: 'Hooli', viewerRole: 'ADMIN', usage: usageOf('hooli') },
        { name: 'Umbrella', viewerRole: 'MEMBER', usage: null },
      ]);
      expect(errorsOf(result)).toEqual([{ path: ['viewer', 'organizations', 1, 'usage'], code: 'FORBIDDEN' }]);
    });
  });

  describe('a federated join of runs and organizations', () => {
    it('evaluates each entity on its own: an admin of Acme EU gets its run and usage, Globex and Acme are FORBIDDEN where they are not theirs', async () => {
      const representations = [
        ...runRepresentations(['globex']),
        ...organizationRepresentations(['acmeEu']),
        ...runRepresentations(['acmeEu']),
        ...organizationRepresentations(['globex', 'acme']),
      ];
      const result = await entities(
        'eu-admin',
        `... on Run { id output { text } servedBy { billing } } ... on Organization { id ${USAGE_SELECTION} }`,
        representations,
      );
      expect(result.data?._entities).toEqual([
        { id: runOf('globex').id, output: null, servedBy: null },
        { id: org('acmeEu').id, usage: usageOf('acmeEu') },
        { id: runOf('acmeEu').id, output: { text: runOf('acmeEu').output.text }, servedBy: { billing: 'PLATFORM_CREDITS' } },
        { id: org('globex').id, usage: null },
        { id: org('acme').id, usage: null },
      ]);
      expect(errorsOf(result)).toEqual(
        expected([
          { path: ['_entities', 0, 'output'], code: 'FORBIDDEN' },
          { path: ['_entities', 0, 'servedBy'], code: 'FORBIDDEN' },
          { path: ['_entities', 3, 'usage'], code: 'FORBIDDEN' },
          { path: ['_entities', 4, 'usage'], code: 'FORBIDDEN' },
        ]),
      );
    });
  });

  describe('Mutation.uploadFile: members and admins of the organization, and operators', () => {
    it.each(CALLERS)(
      'uploads for $label to exactly the organizations it belongs to, through the platform; elsewhere FORBIDDEN, with no provider call',
      async (caller) => {
        for (const key of ORG_KEYS) {
          standIn.reset();
          const before = await snapshot();
          const result = await upload(caller.as, org(key).id);
          if (isMember(caller, key)) {
            expect({ key, errors: result.errors }).toEqual({ key, errors: undefined });
            expect(result.data?.uploadFile).toEqual({ id: expect.stringMatching(/^file_/), provider: 'ANTHROPIC', billing: 'PLATFORM_CREDITS', owner: null });
            expect(standIn.requests.map(({ provider, method, path, apiKey, body }) => ({ provider, method, path, apiKey, body }))).toEqual([
              {
                provider: 'ANTHROPIC',
                method: 'POST',
                path: '/v1/files',
                apiKey: PLATFORM_ANTHROPIC_KEY,
                body: { filename: FILE.filename, mimeType: FILE.mimeType, sizeBytes: FILE.content.length },
              },
            ]);
          } else {
            expect({ key, data: result.data, errors: errorsOf(result) }).toEqual({ key, data: null, errors: [{ path: ['uploadFile'], code: 'FORBIDDEN' }] });
            expect(result.errors?.[0].message).toMatch(/members/);
            expect({ key, calls: providerCalls() }).toEqual({ key, calls: [] });
          }
          // An upload stores nothing here, allowed or not.
          expect({ key, rows: await snapshot() }).toEqual({ key, rows: before });
        }
      },
    );

    it('refuses outsiders with FORBIDDEN even when the file is malformed, and tells a member BAD_USER_INPUT', async () => {
      const malformed = { contentBase64: 'not base64!' };
      for (const as of ['globex-admin', 'parent-admin', 'sales-member', 'stranger']) {
        const result = await upload(as, org('acmeEu').id, malformed);
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: null, errors: [{ path: ['uploadFile'], code: 'FORBIDDEN' }] });
      }
      const member = await upload('eu-member', org('acmeEu').id, malformed);
      expect(member.data).toBeNull();
      expect(errorsOf(member)).toEqual([{ path: ['uploadFile'], code: 'BAD_USER_INPUT' }]);
      expect(member.errors?.[0].extensions.field).toBe('input.contentBase64');
      expect(standIn.requests).toEqual([]);
    });

    it('answers an unknown organization with FORBIDDEN to non-operators and NOT_FOUND to an operator, before any provider call', async () => {
      for (const as of ['eu-member', 'eu-admin', 'stranger', 'mixed']) {
        const result = await upload(as, UNKNOWN_ID);
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: null, errors: [{ path: ['uploadFile'], code: 'FORBIDDEN' }] });
        const forbidden = await upload(as, org('globex').id);
        expect(errorsOf(forbidden)).toEqual(errorsOf(result));
        expect(forbidden.errors?.[0].message).toBe(result.errors?.[0].message);
      }
      const operator = await upload(OPERATOR, UNKNOWN_ID);
      expect(operator.data).toBeNull();
      expect(errorsOf(operator)).toEqual([{ path: ['uploadFile'], code: 'NOT_FOUND' }]);
      expect(standIn.requests).toEqual([]);
    });

    it('answers a malformed organization id with BAD_USER_INPUT when signed in, and UNAUTHENTICATED without a token, before any provider call', async () => {
      for (const as of ['eu-admin', 'eu-member', 'stranger', OPERATOR] as As[]) {
        const result = await upload(as, 'not-a-uuid');
        expect({ as, data: result.data, errors: errorsOf(result) }).toEqual({ as, data: null, errors: [{ path: ['uploadFile'], code: 'BAD_USER_INPUT' }] });
        expect(result.errors?.[0].extensions.field).toBe('input.organizationId');
      }
      const anonymous = await upload(undefined, 'not-a-uuid');
      expect(anonymous.data).toBeNull();
      expect(errorsOf(anonymous)).toEqual([{ path: ['uploadFile'], code: 'UNAUTHENTICATED' }]);
      expect(standIn.requests).toEqual([]);
    });
  });
});
