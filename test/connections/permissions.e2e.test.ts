import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeTestKey, standInEnv, startProviderStandIn, type ProviderStandIn } from '../support/provider-stand-in';
import {
  type As,
  CALLERS as TREE_CALLERS,
  canSee,
  errorsOf,
  expected,
  isAdmin,
  makePermissionTree,
  makeRejectedAuthorizations,
  OPERATOR,
  type OrgKey,
  type RejectedAuthorizations,
} from '../support/permission-tree';
import { snapshotTables } from '../support/snapshot';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';

/**
 * Who may connect and disconnect providers, and read an organization's provider connections and
 * audit log (DESIGN.md section 2: admins of that organization, and operators), over real HTTP,
 * with a local stand-in for the providers so that a key check that should never happen shows.
 *
 * The tree (the same as test/auth/permissions.e2e.test.ts; "the organization" is Acme EU):
 *
 *   Acme            parent-admin (ADMIN)                    ANTHROPIC connected
 *   ├── Acme EU     eu-admin (ADMIN), eu-member (MEMBER)    ANTHROPIC connected
 *   │   └── Acme EU Sales   sales-member (MEMBER)
 *   └── Acme US     us-member (MEMBER)
 *   Globex          globex-admin (ADMIN)                    OPENAI connected
 *   Hooli           mixed (ADMIN), hooli-member (MEMBER)
 *   Umbrella        mixed (MEMBER)                          ANTHROPIC connected
 *
 * `stranger` has a valid token and no membership; `ops` is an operator. The connections are made
 * in beforeAll through the API by `ops`, so every organization that has one also has an audit log.
 */

type Code = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT';
type Provider = 'ANTHROPIC' | 'OPENAI';

/** What the service shows of a key. */
const hintOf = (apiKey: string) => `…${apiKey.slice(-4)}`;

const CONNECT = `mutation($input: ConnectProviderInput!) {
  connectProvider(input: $input) { id provider keyHint status rotatedAt lastVerifiedAt connectedAt }
}`;
const DISCONNECT = `mutation($input: DisconnectProviderInput!) { disconnectProvider(input: $input) }`;
const VERIFY = `mutation($input: VerifyProviderConnectionInput!) {
  verifyProviderConnection(input: $input) { id provider status lastVerifiedAt }
}`;
/** A cooldown and a last use of Acme EU's ANTHROPIC connection, put there in beforeAll, so that who may read them shows. */
const ACME_EU_COOLDOWN_UNTIL = new Date(Date.now() + 86_400_000);
const ACME_EU_LAST_USED_AT = new Date('2026-11-30T08:00:00Z');
const ENTITIES = `query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Organization { id providerConnections { provider } auditLog { edges { node { action } } } }
  }
}`;

/** Keys the stand-in accepts, used by callers who must be refused: were they let through, the connect would succeed. */
const REFUSED_KEYS: Record<Provider, string> = { ANTHROPIC: makeTestKey('ANTHROPIC'), OPENAI: makeTestKey('OPENAI') };

describe('provider connections and audit log: permissions (DESIGN.md section 2)', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  let acme: OrganizationEntity;
  let acmeEu: OrganizationEntity;
  let sales: OrganizationEntity;
  let acmeUs: OrganizationEntity;
  let globex: OrganizationEntity;
  let hooli: OrganizationEntity;
  let umbrella: OrganizationEntity;
  /** The key Acme EU's ANTHROPIC connection was made with. */
  const acmeEuKey = makeTestKey('ANTHROPIC');
  /** Raw Authorization headers that must never authenticate; each claims to be the operator `ops`. */
  let headers: RejectedAuthorizations;

  const connect = (as: As, organizationId: string, provider: Provider, apiKey: string) =>
    server.graphql(CONNECT, { as, variables: { input: { organizationId, provider, apiKey } } });
  const disconnect = (as: As, organizationId: string, provider: Provider) =>
    server.graphql(DISCONNECT, { as, variables: { input: { organizationId, provider } } });
  const verify = (as: As, organizationId: string, provider: Provider) =>
    server.graphql(VERIFY, { as, variables: { input: { organizationId, provider } } });

  /** Everything a connect or disconnect could change, to compare before and after a refused call. */
  const snapshot = () =>
    snapshotTables(server.dataSource, {
      connections: {
        select: 'SELECT id, organization_id, provider, encrypted_key, key_hint, status, rotated_at, last_verified_at, updated_at FROM provider_connection',
        order: 'organization_id, provider',
      },
      auditEvents: { select: 'SELECT id, organization_id, actor_id, action, position FROM audit_event', order: 'position' },
    });

  /** What an admin sees of an organization through ENTITIES, straight from the tables. */
  async function adminView(organization: OrganizationEntity) {
    const connections = await server.dataSource.query(`SELECT provider FROM provider_connection WHERE organization_id = $1 ORDER BY provider`, [
      organization.id,
    ]);
    const events: { action: string }[] = await server.dataSource.query(
      `SELECT action FROM audit_event WHERE organization_id = $1 ORDER BY position DESC LIMIT 20`,
      [organization.id],
    );
    return { id: organization.id, providerConnections: connections, auditLog: { edges: events.map((event) => ({ node: event })) } };
  }

  beforeAll(async () => {
    standIn = await startProviderStandIn();
    server = await startTestServer(standInEnv(standIn));
    const ds = server.dataSource;
    ({ acme, acmeEu, sales, acmeUs, globex, hooli, umbrella } = await makePermissionTree(ds));

    const initial: [OrganizationEntity, Provider, string][] = [
      [acmeEu, 'ANTHROPIC', acmeEuKey],
      [acme, 'ANTHROPIC', makeTestKey('ANTHROPIC')],
      [umbrella, 'ANTHROPIC', makeTestKey('ANTHROPIC')],
      [globex, 'OPENAI', makeTestKey('OPENAI')],
    ];
    standIn.acceptKeys(...Object.values(REFUSED_KEYS), ...initial.map(([, , key]) => key));
    for (const [organization, provider, key] of initial) {
      const result = await connect(OPERATOR, organization.id, provider, key);
      if (result.errors || result.data?.connectProvider.status !== 'VERIFIED') {
        throw new Error(`Setting up ${organization.name}'s ${provider} connection failed: ${JSON.stringify(result.errors)}`);
      }
    }

    const [{ id: acmeEuConnection }] = await ds.query(`SELECT id FROM provider_connection WHERE organization_id = $1 AND provider = 'ANTHROPIC'`, [acmeEu.id]);
    await ds.query(
      `INSERT INTO model_cooldown (account, connection_id, provider, model_id, until, reason, failures) VALUES ($1::text, $1::uuid, 'ANTHROPIC', 'claude-opus-4-6', $2, 'RATE_LIMITED', 3)`,
      [acmeEuConnection, ACME_EU_COOLDOWN_UNTIL],
    );
    await ds.query('UPDATE provider_connection SET last_used_at = $2 WHERE id = $1', [acmeEuConnection, ACME_EU_LAST_USED_AT]);

    headers = await makeRejectedAuthorizations(server);
  });
  beforeEach(() => standIn.reset());
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });

  /** Callers without a valid token: UNAUTHENTICATED, whatever their token claims. */
  const UNAUTHENTICATED: { label: string; as: () => As }[] = [
    { label: 'a caller without a token', as: () => undefined },
    { label: 'a caller whose bearer token is not a JWT', as: () => ({ raw: headers.notJwt }) },
    { label: 'a token signed with the wrong secret', as: () => ({ raw: headers.wrongSecret }) },
    { label: 'an expired token', as: () => ({ raw: headers.expired }) },
  ];

  describe('connectProvider, disconnectProvider and verifyProviderConnection: admins of the organization and operators only', () => {
    const MUTATIONS: {
      name: string;
      mutation: 'connectProvider' | 'disconnectProvider' | 'verifyProviderConnection';
      run: (as: As, organization: OrganizationEntity) => Promise<GraphQLResponse>;
      key?: string;
    }[] = [
      {
        name: 'connectProvider (a provider it lacks)',
        mutation: 'connectProvider',
        run: (as, organization) => connect(as, organization.id, 'OPENAI', REFUSED_KEYS.OPENAI),
        key: REFUSED_KEYS.OPENAI,
      },
      {
        // On Acme EU, Acme and Umbrella this would be a rotation of the connected key.
        name: 'connectProvider (a provider it has: a rotation)',
        mutation: 'connectProvider',
        run: (as, organization) => connect(as, organization.id, 'ANTHROPIC', REFUSED_KEYS.ANTHROPIC),
        key: REFUSED_KEYS.ANTHROPIC,
      },
      {
        name: 'disconnectProvider (a provider it has)',
        mutation: 'disconnectProvider',
        run: (as, organization) => disconnect(as, organization.id, 'ANTHROPIC'),
      },
      {
        name: 'verifyProviderConnection (a provider it has)',
        mutation: 'verifyProviderConnection',
        run: (as, organization) => verify(as, organization.id, 'ANTHROPIC'),
      },
    ];

    const DENIED: { label: string; as: () => As; target: () => OrganizationEntity; code: Code }[] = [
      ...UNAUTHENTICATED.map(({ label, as }) => ({ label, as, target: () => acmeEu, code: 'UNAUTHENTICATED' as Code })),
      ...TREE_CALLERS.filter((caller) => !isAdmin(caller, 'acmeEu')).map(({ label, as }) => ({
        label,
        as: () => as,
        target: () => acmeEu,
        code: 'FORBIDDEN' as Code,
      })),
      { label: 'an admin of a sub-organization, on its parent', as: () => 'eu-admin', target: () => acme, code: 'FORBIDDEN' },
      { label: 'an admin of one organization, on another where they are a member', as: () => 'mixed', target: () => umbrella, code: 'FORBIDDEN' },
    ];
    const denials = DENIED.flatMap((caller) => MUTATIONS.map((mutation) => ({ ...caller, mutation, mutationName: mutation.name })));

    it.each(denials)(
      'refuses $mutationName to $label with $code, stores nothing and sends nothing to the provider',
      async ({ as, target, code, mutation }) => {
        const before = await snapshot();
        const result = await mutation.run(as(), target());
        // Both mutation fields are non-null: the denial nulls the whole data.
        expect(result.status).toBe(200);
        expect(result.data).toBeNull();
        expect(errorsOf(result)).toEqual([{ path: [mutation.mutation], code }]);
        if (mutation.key) expect(JSON.stringify(result)).not.toContain(mutation.key);
        expect(await snapshot()).toEqual(before);
        expect(standIn.requests).toEqual([]);
      },
    );

    it.each([
      { label: 'an admin of Acme EU', as: 'eu-admin' as As },
      { label: 'a member of Acme EU', as: 'eu-member' as As },
      { label: 'a signed-in user with no membership', as: 'stranger' as As },
    ])('refuses both mutations on an unknown organization to $label with FORBIDDEN (no existence oracle)', async ({ as }) => {
      const unknown = '00000000-0000-4000-8000-0000000000aa';
      const before = await snapshot();
      const connected = await connect(as, unknown, 'OPENAI', REFUSED_KEYS.OPENAI);
      expect(connected.data).toBeNull();
      expect(errorsOf(connected)).toEqual([{ path: ['connectProvider'], code: 'FORBIDDEN' }]);
      const disconnected = await disconnect(as, unknown, 'OPENAI');
      expect(disconnected.data).toBeNull();
      expect(errorsOf(disconnected)).toEqual([{ path: ['disconnectProvider'], code: 'FORBIDDEN' }]);
      expect(await snapshot()).toEqual(before);
      expect(standIn.requests).toEqual([]);
    });

    it('answers an operator connecting an unknown organization with NOT_FOUND, before asking the provider', async () => {
      const unknown = '00000000-0000-4000-8000-0000000000aa';
      const before = await snapshot();
      const connected = await connect(OPERATOR, unknown, 'OPENAI', REFUSED_KEYS.OPENAI);
      expect(connected.data).toBeNull();
      expect(errorsOf(connected)).toEqual([{ path: ['connectProvider'], code: 'NOT_FOUND' }]);
      const disconnected = await disconnect(OPERATOR, unknown, 'OPENAI');
      expect(disconnected.data).toBeNull();
      expect(errorsOf(disconnected)).toEqual([{ path: ['disconnectProvider'], code: 'NOT_FOUND' }]);
      expect(await snapshot()).toEqual(before);
      expect(standIn.requests).toEqual([]);
    });

    describe('a malformed organization id (not a UUID)', () => {
      const CALLERS: { label: string; as: As; code: Code }[] = [
        { label: 'an admin of the organization', as: 'eu-admin', code: 'BAD_USER_INPUT' },
        { label: 'a member of the organization', as: 'eu-member', code: 'BAD_USER_INPUT' },
        { label: 'a signed-in user with no membership', as: 'stranger', code: 'BAD_USER_INPUT' },
        { label: 'an operator', as: OPERATOR, code: 'BAD_USER_INPUT' },
        { label: 'a caller without a token', as: undefined, code: 'UNAUTHENTICATED' },
      ];
      const cells = CALLERS.flatMap((caller) =>
        [
          { mutationName: 'connectProvider', run: (as: As) => connect(as, 'not-a-uuid', 'OPENAI', REFUSED_KEYS.OPENAI) },
          { mutationName: 'disconnectProvider', run: (as: As) => disconnect(as, 'not-a-uuid', 'ANTHROPIC') },
        ].map((mutation) => ({ ...caller, ...mutation })),
      );

      it.each(cells)('answers $mutationName from $label with $code, not FORBIDDEN, and stores nothing', async ({ as, code, mutationName, run }) => {
        const before = await snapshot();
        const result = await run(as);
        expect(result.data).toBeNull();
        expect(errorsOf(result)).toEqual([{ path: [mutationName], code }]);
        if (code === 'BAD_USER_INPUT') expect(result.errors?.[0].extensions.field).toBe('input.organizationId');
        expect(await snapshot()).toEqual(before);
        expect(standIn.requests).toEqual([]);
      });
    });

    const ALLOWED: { label: string; as: As; actor: string; target: () => OrganizationEntity; orgName: string; provider: Provider }[] = [
      { label: 'an admin of the organization', as: 'eu-admin', actor: 'eu-admin', target: () => acmeEu, orgName: 'Acme EU', provider: 'OPENAI' },
      { label: 'an operator', as: OPERATOR, actor: 'ops', target: () => acmeEu, orgName: 'Acme EU', provider: 'OPENAI' },
      { label: 'an operator', as: OPERATOR, actor: 'ops', target: () => sales, orgName: 'Acme EU Sales (no admins)', provider: 'ANTHROPIC' },
      {
        label: 'an admin of one organization who is a member of another',
        as: 'mixed',
        actor: 'mixed',
        target: () => hooli,
        orgName: 'the organization they admin',
        provider: 'ANTHROPIC',
      },
    ];

    it.each(ALLOWED)(
      'lets $label connect, rotate and disconnect $provider on $orgName: VERIFIED after one key check, the same id on rotation, true on disconnect, each change audited under their id',
      async ({ as, actor, target, provider }) => {
        const organization = target();
        const [first, second] = [makeTestKey(provider), makeTestKey(provider)];
        standIn.acceptKeys(first, second);
        const before = await snapshot();
        const [{ last }] = await server.dataSource.query(`SELECT coalesce(max(position), 0) AS last FROM audit_event`);
        const keyChecks = () => standIn.requests.map(({ provider, method, path, apiKey }) => ({ provider, method, path, apiKey }));
        const stored = () =>
          server.dataSource.query(
            `SELECT id, status, key_hint, encrypted_key, rotated_at IS NOT NULL AS rotated FROM provider_connection
             WHERE organization_id = $1 AND provider = $2`,
            [organization.id, provider],
          );

        const connected = await connect(as, organization.id, provider, first);
        expect(connected.errors).toBeUndefined();
        expect(connected.data?.connectProvider).toEqual({
          id: expect.any(String),
          provider,
          keyHint: hintOf(first),
          status: 'VERIFIED',
          rotatedAt: null,
          lastVerifiedAt: expect.any(String),
          connectedAt: expect.any(String),
        });
        const id = connected.data?.connectProvider.id;
        expect(keyChecks()).toEqual([{ provider, method: 'GET', path: '/v1/models', apiKey: first }]);
        const afterConnect = await stored();
        expect(afterConnect).toEqual([{ id, status: 'VERIFIED', key_hint: hintOf(first), encrypted_key: expect.stringMatching(/^v1:test:/), rotated: false }]);
        expect(afterConnect[0].encrypted_key).not.toContain(first);

        standIn.reset();
        const rotated = await connect(as, organization.id, provider, second);
        expect(rotated.errors).toBeUndefined();
        expect(rotated.data?.connectProvider).toMatchObject({ id, provider, keyHint: hintOf(second), status: 'VERIFIED', rotatedAt: expect.any(String) });
        expect(keyChecks()).toEqual([{ provider, method: 'GET', path: '/v1/models', apiKey: second }]);
        expect(await stored()).toEqual([{ id, status: 'VERIFIED', key_hint: hintOf(second), encrypted_key: expect.stringMatching(/^v1:test:/), rotated: true }]);

        standIn.reset();
        const disconnected = await disconnect(as, organization.id, provider);
        expect(disconnected.errors).toBeUndefined();
        expect(disconnected.data).toEqual({ disconnectProvider: true });
        expect(await stored()).toEqual([]);
        const again = await disconnect(as, organization.id, provider);
        expect(again.errors).toBeUndefined();
        expect(again.data).toEqual({ disconnectProvider: false });
        expect(standIn.requests).toEqual([]);

        const events = await server.dataSource.query(
          `SELECT organization_id, actor_id, action, before, after FROM audit_event WHERE position > $1 ORDER BY position`,
          [last],
        );
        expect(events.map(({ organization_id, actor_id, action }: Record<string, unknown>) => ({ organization_id, actor_id, action }))).toEqual(
          ['PROVIDER_CONNECTED', 'PROVIDER_KEY_ROTATED', 'PROVIDER_DISCONNECTED'].map((action) => ({
            organization_id: organization.id,
            actor_id: actor,
            action,
          })),
        );
        expect(JSON.stringify(events)).not.toContain(first);
        expect(JSON.stringify(events)).not.toContain(second);
        // Every other connection is as it was.
        expect((await snapshot()).connections).toEqual(before.connections);
      },
    );

    it.each([
      { label: 'an admin of the organization', as: 'eu-admin' as As, actor: 'eu-admin' },
      { label: 'an operator', as: OPERATOR, actor: 'ops' },
    ])('lets $label verify a connection: one key check with the stored key, VERIFIED, audited PROVIDER_VERIFIED under their id', async ({ as, actor }) => {
      const [{ last }] = await server.dataSource.query(`SELECT coalesce(max(position), 0) AS last FROM audit_event`);
      const verified = await verify(as, acmeEu.id, 'ANTHROPIC');
      expect(verified.errors).toBeUndefined();
      expect(verified.data?.verifyProviderConnection).toMatchObject({ provider: 'ANTHROPIC', status: 'VERIFIED', lastVerifiedAt: expect.any(String) });
      expect(standIn.requests.map(({ method, path, apiKey }) => ({ method, path, apiKey }))).toEqual([{ method: 'GET', path: '/v1/models', apiKey: acmeEuKey }]);
      const events = await server.dataSource.query(`SELECT organization_id, actor_id, action, before, after FROM audit_event WHERE position > $1`, [last]);
      expect(events.map(({ organization_id, actor_id, action }: Record<string, unknown>) => ({ organization_id, actor_id, action }))).toEqual([
        { organization_id: acmeEu.id, actor_id: actor, action: 'PROVIDER_VERIFIED' },
      ]);
      expect(JSON.stringify(events)).not.toContain(acmeEuKey);
    });

    it('applies the same rules to an organization id written in upper case', async () => {
      const upper = acmeEu.id.toUpperCase();
      const before = await snapshot();
      const refused = await connect('globex-admin', upper, 'OPENAI', REFUSED_KEYS.OPENAI);
      expect(refused.data).toBeNull();
      expect(errorsOf(refused)).toEqual([{ path: ['connectProvider'], code: 'FORBIDDEN' }]);
      const refusedDisconnect = await disconnect('parent-admin', upper, 'ANTHROPIC');
      expect(refusedDisconnect.data).toBeNull();
      expect(errorsOf(refusedDisconnect)).toEqual([{ path: ['disconnectProvider'], code: 'FORBIDDEN' }]);
      expect(await snapshot()).toEqual(before);
      expect(standIn.requests).toEqual([]);

      const key = makeTestKey('OPENAI');
      standIn.acceptKeys(key);
      const connected = await connect('eu-admin', upper, 'OPENAI', key);
      expect(connected.errors).toBeUndefined();
      expect(connected.data?.connectProvider).toMatchObject({ provider: 'OPENAI', status: 'VERIFIED' });
      const rows = await server.dataSource.query(`SELECT organization_id FROM provider_connection WHERE id = $1`, [connected.data?.connectProvider.id]);
      expect(rows).toEqual([{ organization_id: acmeEu.id }]);
      const disconnected = await disconnect('eu-admin', upper, 'OPENAI');
      expect(disconnected.errors).toBeUndefined();
      expect(disconnected.data).toEqual({ disconnectProvider: true });
      expect((await snapshot()).connections).toEqual(before.connections);
    });
  });

  describe('Organization.providerConnections and Organization.auditLog: admins of the organization and operators only', () => {
    type Field = 'providerConnections' | 'auditLog';
    const FIELDS: Record<Field, { selection: string; phrase: string; value: () => Promise<unknown> }> = {
      providerConnections: {
        selection: 'providerConnections { provider keyHint status lastUsedAt cooldowns { model { id } until reason failures } }',
        phrase: 'its provider connections, their cooldowns and last use',
        value: async () => [
          {
            provider: 'ANTHROPIC',
            keyHint: hintOf(acmeEuKey),
            status: 'VERIFIED',
            lastUsedAt: ACME_EU_LAST_USED_AT.toISOString(),
            cooldowns: [{ model: { id: 'claude-opus-4-6' }, until: ACME_EU_COOLDOWN_UNTIL.toISOString(), reason: 'RATE_LIMITED', failures: 3 }],
          },
        ],
      },
      auditLog: {
        selection: 'auditLog(first: 5) { edges { node { action actorId } } pageInfo { hasNextPage } }',
        phrase: 'its audit log',
        value: async () => {
          const rows: { action: string; actor_id: string }[] = await server.dataSource.query(
            `SELECT action, actor_id FROM audit_event WHERE organization_id = $1 ORDER BY position DESC`,
            [acmeEu.id],
          );
          // Not vacuous: the beforeAll connect is always there, as the oldest event.
          expect(rows.at(-1)).toEqual({ action: 'PROVIDER_CONNECTED', actor_id: 'ops' });
          return {
            edges: rows.slice(0, 5).map((row) => ({ node: { action: row.action, actorId: row.actor_id } })),
            pageInfo: { hasNextPage: rows.length > 5 },
          };
        },
      },
    };
    const ALL: Field[] = ['providerConnections', 'auditLog'];

    /** Callers who may see Acme EU's id and name (so organization(id) answers them), and what they get of the admin-only fields. */
    const READERS: { label: string; as: As; granted: boolean }[] = TREE_CALLERS.filter((caller) => canSee(caller, 'acmeEu')).map((caller) => ({
      label: caller.label,
      as: caller.as,
      granted: isAdmin(caller, 'acmeEu'),
    }));
    const cells = READERS.flatMap((reader) =>
      ALL.map((field) => ({ ...reader, field, title: `${reader.granted ? 'grants' : 'denies'} ${reader.label} ${FIELDS[field].phrase}` })),
    );

    const readOrganization = (selection: string, as: As, id = acmeEu.id) =>
      server.graphql(`query($id: ID!) { organization(id: $id) { ${selection} } }`, { as, variables: { id } });

    it.each(cells)('$title', async ({ as, field, granted }) => {
      const { selection, value } = FIELDS[field];
      const result = await readOrganization(`id name ${selection}`, as);
      if (granted) {
        expect(result.errors).toBeUndefined();
        expect(result.data?.organization).toEqual({ id: acmeEu.id, name: 'Acme EU', [field]: await value() });
      } else {
        // Both fields are nullable: null on their own, and the siblings id and name still arrive.
        expect(result.data?.organization).toEqual({ id: acmeEu.id, name: 'Acme EU', [field]: null });
        expect(errorsOf(result)).toEqual([{ path: ['organization', field], code: 'FORBIDDEN' }]);
        expect(result.errors?.[0].message).toMatch(/admins/);
        expect(JSON.stringify(result)).not.toContain(hintOf(acmeEuKey));
        expect(JSON.stringify(result)).not.toContain(ACME_EU_COOLDOWN_UNTIL.toISOString());
      }
    });

    it.each(UNAUTHENTICATED)('gives $label nothing of the organization: null with UNAUTHENTICATED', async ({ as }) => {
      const result = await readOrganization(`id ${FIELDS.providerConnections.selection} ${FIELDS.auditLog.selection}`, as());
      expect(result.data).toEqual({ organization: null });
      expect(errorsOf(result)).toEqual([{ path: ['organization'], code: 'UNAUTHENTICATED' }]);
    });

    it('denies a member the audit log with FORBIDDEN even when the cursor is malformed, and tells an admin the cursor is BAD_USER_INPUT', async () => {
      const member = await readOrganization('name auditLog(after: "not-a-cursor") { edges { cursor } }', 'eu-member');
      expect(member.data).toEqual({ organization: { name: 'Acme EU', auditLog: null } });
      expect(errorsOf(member)).toEqual([{ path: ['organization', 'auditLog'], code: 'FORBIDDEN' }]);
      const admin = await readOrganization('name auditLog(after: "not-a-cursor") { edges { cursor } }', 'eu-admin');
      expect(admin.data).toEqual({ organization: { name: 'Acme EU', auditLog: null } });
      expect(errorsOf(admin)).toEqual([{ path: ['organization', 'auditLog'], code: 'BAD_USER_INPUT' }]);
    });

    it("denies an admin of the parent organization the sub-organizations' connections and audit logs, while its own and their names arrive", async () => {
      const result = await readOrganization(
        `name providerConnections { provider } subOrganizations { name providerConnections { provider } auditLog { edges { node { action } } } }`,
        'parent-admin',
        acme.id,
      );
      expect(result.data?.organization).toEqual({
        name: 'Acme',
        providerConnections: [{ provider: 'ANTHROPIC' }],
        subOrganizations: [
          { name: 'Acme EU', providerConnections: null, auditLog: null },
          { name: 'Acme US', providerConnections: null, auditLog: null },
        ],
      });
      expect(errorsOf(result)).toEqual(
        expected(
          [0, 1].flatMap((index) => [
            { path: ['organization', 'subOrganizations', index, 'providerConnections'], code: 'FORBIDDEN' },
            { path: ['organization', 'subOrganizations', index, 'auditLog'], code: 'FORBIDDEN' },
          ]),
        ),
      );
    });

    it("denies an admin of the organization its parent's connections and audit log, while its own and the parent's name arrive", async () => {
      const result = await readOrganization(
        `providerConnections { provider } parent { name providerConnections { provider } auditLog { edges { node { action } } } }`,
        'eu-admin',
      );
      expect(result.data?.organization).toEqual({
        providerConnections: [{ provider: 'ANTHROPIC' }],
        parent: { name: 'Acme', providerConnections: null, auditLog: null },
      });
      expect(errorsOf(result)).toEqual(
        expected([
          { path: ['organization', 'parent', 'providerConnections'], code: 'FORBIDDEN' },
          { path: ['organization', 'parent', 'auditLog'], code: 'FORBIDDEN' },
        ]),
      );
    });

    it("lists the caller's organizations with connections only where the caller is an admin (siblings in the list still arrive)", async () => {
      const result = await server.graphql(`{ viewer { organizations { name viewerRole providerConnections { provider } } } }`, { as: 'mixed' });
      expect(result.data?.viewer.organizations).toEqual([
        { name: 'Hooli', viewerRole: 'ADMIN', providerConnections: [] },
        { name: 'Umbrella', viewerRole: 'MEMBER', providerConnections: null },
      ]);
      expect(errorsOf(result)).toEqual([{ path: ['viewer', 'organizations', 1, 'providerConnections'], code: 'FORBIDDEN' }]);
    });
  });

  describe('federation: Organization fetched by reference', () => {
    const representationsOf = (organizations: OrganizationEntity[]) => organizations.map((org) => ({ __typename: 'Organization', id: org.id }));

    it("shows the admin of Acme EU Acme EU's connections and audit log, and Globex's as null with FORBIDDEN, in the same answer", async () => {
      const result = await server.graphql(ENTITIES, { as: 'eu-admin', variables: { r: representationsOf([acmeEu, globex]) } });
      expect(result.data?._entities).toEqual([await adminView(acmeEu), { id: globex.id, providerConnections: null, auditLog: null }]);
      expect(result.data?._entities[0].providerConnections).toEqual([{ provider: 'ANTHROPIC' }]);
      expect(result.data?._entities[0].auditLog.edges).toContainEqual({ node: { action: 'PROVIDER_CONNECTED' } });
      expect(errorsOf(result)).toEqual(
        expected([
          { path: ['_entities', 1, 'providerConnections'], code: 'FORBIDDEN' },
          { path: ['_entities', 1, 'auditLog'], code: 'FORBIDDEN' },
        ]),
      );
    });

    /** The organizations asked for. */
    const ASKED: OrgKey[] = ['acme', 'acmeEu', 'sales', 'globex', 'hooli', 'umbrella'];

    it.each(TREE_CALLERS)(
      'shows $label the connections and audit log of exactly the organizations it administers; the others are null with FORBIDDEN',
      async (caller) => {
        const { as } = caller;
        const byKey = { acme, acmeEu, sales, acmeUs, globex, hooli, umbrella };
        const organizations = ASKED.map((key) => byKey[key]);
        const allowed = new Set(ASKED.filter((key) => isAdmin(caller, key)).map((key) => byKey[key].id));
        const result = await server.graphql(ENTITIES, { as, variables: { r: representationsOf(organizations) } });
        const views = await Promise.all(
          organizations.map((org) => (allowed.has(org.id) ? adminView(org) : { id: org.id, providerConnections: null, auditLog: null })),
        );
        expect(result.data?._entities).toEqual(views);
        expect(errorsOf(result)).toEqual(
          expected(
            organizations.flatMap((org, index) =>
              allowed.has(org.id)
                ? []
                : [
                    { path: ['_entities', index, 'providerConnections'], code: 'FORBIDDEN' },
                    { path: ['_entities', index, 'auditLog'], code: 'FORBIDDEN' },
                  ],
            ),
          ),
        );
      },
    );

    it('evaluates each entity on its own, whatever the order of the representations', async () => {
      const result = await server.graphql(ENTITIES, { as: 'eu-admin', variables: { r: representationsOf([globex, acme, acmeEu]) } });
      expect(result.data?._entities).toEqual([
        { id: globex.id, providerConnections: null, auditLog: null },
        { id: acme.id, providerConnections: null, auditLog: null },
        await adminView(acmeEu),
      ]);
      expect(errorsOf(result)).toEqual(
        expected(
          [0, 1].flatMap((index) => [
            { path: ['_entities', index, 'providerConnections'], code: 'FORBIDDEN' },
            { path: ['_entities', index, 'auditLog'], code: 'FORBIDDEN' },
          ]),
        ),
      );
    });

    it.each(UNAUTHENTICATED)('gives $label no entity: one UNAUTHENTICATED error for the field', async ({ as }) => {
      const result = await server.graphql(ENTITIES, { as: as(), variables: { r: representationsOf([acmeEu, globex]) } });
      // Refused for the field before any reference is read (test/auth/entities-limits.e2e.test.ts).
      expect(result.data).toBeNull();
      expect(errorsOf(result)).toEqual([{ path: ['_entities'], code: 'UNAUTHENTICATED' }]);
      expect(JSON.stringify(result)).not.toContain(hintOf(acmeEuKey));
    });
  });
});
