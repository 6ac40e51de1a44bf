import { KeyVault, parseKeyRing } from '../../src/connections/key-vault';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeMembership, makeOrganization, OrgRole } from '../support/factories';
import { KEY_PATTERN, makeTestKey, type ProviderStandIn, type StandInBehaviour, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { OPERATOR, startTestServer, TEST_ENCRYPTION_KEYS, type TestServer } from '../support/test-server';

const CHECK_TIMEOUT_MS = 300;

const CONNECT = `mutation($input: ConnectProviderInput!) {
  connectProvider(input: $input) { id provider keyHint status connectedAt rotatedAt lastVerifiedAt }
}`;
const DISCONNECT = `mutation($input: DisconnectProviderInput!) { disconnectProvider(input: $input) }`;
const AUDIT_LOG = `query($id: ID!, $first: Int, $after: String) {
  organization(id: $id) { auditLog(first: $first, after: $after) { edges { cursor node { id action actorId at before after } } pageInfo { hasNextPage endCursor } } }
}`;

interface StoredConnection {
  id: string;
  organization_id: string;
  provider: string;
  encrypted_key: string;
  key_hint: string;
}

describe('provider connections', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  /** Every key this file hands to the service: none may ever show up in its logs. */
  const usedKeys: string[] = [];
  const key = (provider: 'ANTHROPIC' | 'OPENAI', { accepted = true } = {}) => {
    const made = makeTestKey(provider);
    usedKeys.push(made);
    if (accepted) standIn.acceptKeys(made);
    return made;
  };

  beforeAll(async () => {
    standIn = await startProviderStandIn();
    server = await startTestServer({ ...standInEnv(standIn), PROVIDER_CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT_MS) });
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  /** An organization with an admin of its own, `admin-<n>`. */
  let organizations = 0;
  async function organizationWithAdmin(parent?: OrganizationEntity): Promise<{ organization: OrganizationEntity; admin: string }> {
    organizations += 1;
    const organization = await makeOrganization(server.dataSource, { name: `Tenant ${organizations}`, parent });
    const admin = `admin-${organizations}`;
    await makeMembership(server.dataSource, organization, admin, OrgRole.ADMIN);
    return { organization, admin };
  }

  const connect = (as: string | typeof OPERATOR, organizationId: string, provider: string, apiKey: string) =>
    server.graphql(CONNECT, { as, variables: { input: { organizationId, provider, apiKey } } });
  const stored = (organizationId: string): Promise<StoredConnection[]> =>
    server.dataSource.query(
      'SELECT id, organization_id, provider, encrypted_key, key_hint FROM provider_connection WHERE organization_id = $1 ORDER BY provider',
      [organizationId],
    );
  const auditActions = async (organizationId: string): Promise<string[]> =>
    (await server.dataSource.query('SELECT action FROM audit_event WHERE organization_id = $1 ORDER BY position', [organizationId])).map(
      (row: { action: string }) => row.action,
    );
  const vault = new KeyVault(parseKeyRing(TEST_ENCRYPTION_KEYS));
  const decrypt = (row: StoredConnection) =>
    vault.decrypt(row.encrypted_key, { organizationId: row.organization_id, connectionId: row.id, provider: row.provider });

  describe('connectProvider', () => {
    it.each(['ANTHROPIC', 'OPENAI'] as const)('connects %s once the provider accepts the key, and stores it only encrypted', async (provider) => {
      const { organization, admin } = await organizationWithAdmin();
      const apiKey = key(provider);

      const result = await connect(admin, organization.id, provider, apiKey);

      expect(result.errors).toBeUndefined();
      const connection = result.data?.connectProvider;
      expect(connection).toMatchObject({ provider, keyHint: `…${apiKey.slice(-4)}`, status: 'VERIFIED', rotatedAt: null });
      expect(Date.parse(connection.connectedAt)).not.toBeNaN();
      expect(Date.parse(connection.lastVerifiedAt)).toBeGreaterThanOrEqual(Date.parse(connection.connectedAt));
      // One live check: the models list, with that key, and nothing else.
      expect(standIn.requests.map((r) => [r.provider, r.method, r.path, r.apiKey])).toEqual([[provider, 'GET', '/v1/models', apiKey]]);

      const [row] = await stored(organization.id);
      expect(row.id).toBe(connection.id);
      expect(row.encrypted_key).toMatch(/^v1:test:[A-Za-z0-9+/]+=*$/);
      expect(row.encrypted_key).not.toContain(apiKey);
      expect(row.encrypted_key).not.toContain(Buffer.from(apiKey).toString('base64'));
      expect(decrypt(row)).toBe(apiKey);
    });

    it('lists the connections to admins in providerConnections, by provider', async () => {
      const { organization, admin } = await organizationWithAdmin();
      const openaiKey = key('OPENAI');
      const anthropicKey = key('ANTHROPIC');
      await connect(admin, organization.id, 'OPENAI', openaiKey);
      await connect(admin, organization.id, 'ANTHROPIC', anthropicKey);

      const result = await server.graphql(`query($id: ID!) { organization(id: $id) { providerConnections { provider keyHint status } } }`, {
        as: admin,
        variables: { id: organization.id },
      });

      expect(result.data?.organization.providerConnections).toEqual([
        { provider: 'ANTHROPIC', keyHint: `…${anthropicKey.slice(-4)}`, status: 'VERIFIED' },
        { provider: 'OPENAI', keyHint: `…${openaiKey.slice(-4)}`, status: 'VERIFIED' },
      ]);
    });

    it('rotates the key when the provider is connected again: same id, rotatedAt set, the old ciphertext gone', async () => {
      const { organization, admin } = await organizationWithAdmin();
      const first = key('ANTHROPIC');
      const second = key('ANTHROPIC');
      const connected = (await connect(admin, organization.id, 'ANTHROPIC', first)).data?.connectProvider;
      const [before] = await stored(organization.id);

      const rotated = await connect(admin, organization.id, 'ANTHROPIC', second);

      expect(rotated.errors).toBeUndefined();
      expect(rotated.data?.connectProvider).toMatchObject({ id: connected.id, keyHint: `…${second.slice(-4)}`, status: 'VERIFIED', connectedAt: connected.connectedAt });
      expect(Date.parse(rotated.data?.connectProvider.rotatedAt)).toBeGreaterThanOrEqual(Date.parse(connected.connectedAt));
      const rows = await stored(organization.id);
      expect(rows).toHaveLength(1);
      expect(rows[0].encrypted_key).not.toBe(before.encrypted_key);
      expect(decrypt(rows[0])).toBe(second);
      const everywhere = await server.dataSource.query('SELECT count(*)::int AS n FROM provider_connection WHERE encrypted_key = $1', [before.encrypted_key]);
      expect(everywhere[0].n).toBe(0);
    });

    it.each([
      ['ANTHROPIC', 'an OpenAI-shaped key', () => `sk-proj-${'a'.repeat(40)}`, /must start with 'sk-ant-'/],
      ['OPENAI', 'an Anthropic key', () => `sk-ant-api03-${'a'.repeat(40)}`, /is an Anthropic key/],
      ['OPENAI', 'a key without the sk- prefix', () => `pk-${'a'.repeat(40)}`, /must start with 'sk-'/],
      ['ANTHROPIC', 'a key with white space inside', () => `sk-ant-api03-${'a'.repeat(20)} ${'b'.repeat(20)}`, /white space/],
      ['OPENAI', 'a key with a trailing newline', () => `sk-proj-${'a'.repeat(40)}\n`, /white space/],
      ['ANTHROPIC', 'a too short key', () => 'sk-ant-abc', /20 to 512 characters/],
      ['OPENAI', 'a too long key', () => `sk-${'a'.repeat(600)}`, /20 to 512 characters/],
      ['OPENAI', 'a key with other characters', () => `sk-proj-${'a'.repeat(30)}$%`, /letters, digits/],
      ['ANTHROPIC', 'an empty key', () => '', /20 to 512 characters/],
    ])('refuses %s with %s: BAD_USER_INPUT, nothing sent, nothing stored', async (provider, _case, makeKey, message) => {
      const { organization, admin } = await organizationWithAdmin();
      const apiKey = makeKey();
      standIn.acceptKeys(apiKey);

      const result = await connect(admin, organization.id, provider, apiKey);

      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'apiKey' });
      expect(result.errors?.[0].message).toMatch(message);
      if (apiKey.length > 0) expect(JSON.stringify(result.errors)).not.toContain(apiKey.trim());
      expect(standIn.requests).toEqual([]);
      expect(await stored(organization.id)).toEqual([]);
      expect(await auditActions(organization.id)).toEqual([]);
    });

    it.each([
      ['a key the provider does not know (401)', 'ANTHROPIC', [] as StandInBehaviour[], 401],
      ['a key the provider does not know (401)', 'OPENAI', [], 401],
      ['a key without permission (403)', 'ANTHROPIC', [{ status: 403 }], 403],
      ['a key without permission (403)', 'OPENAI', [{ status: 403 }], 403],
    ])('refuses %s for %s with INVALID_API_KEY and stores nothing', async (_case, provider, script, status) => {
      const { organization, admin } = await organizationWithAdmin();
      const apiKey = key(provider as 'ANTHROPIC' | 'OPENAI', { accepted: false });
      standIn.script(provider as 'ANTHROPIC' | 'OPENAI', ...script);

      const result = await connect(admin, organization.id, provider, apiKey);

      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions).toEqual({ code: 'INVALID_API_KEY', provider, httpStatus: status });
      expect(JSON.stringify(result.errors)).not.toContain(apiKey);
      expect(standIn.requests.map((r) => [r.path, r.answered])).toEqual([['/v1/models', status]]);
      expect(await stored(organization.id)).toEqual([]);
      expect(await auditActions(organization.id)).toEqual([]);
    });

    it.each([
      ['answers 500', 'ANTHROPIC', { status: 500 }, /answered with HTTP 500/],
      ['is overloaded (529)', 'ANTHROPIC', { status: 529 }, /answered with HTTP 529/],
      ['rate-limits the check (429)', 'OPENAI', { status: 429, retryAfter: '3600' }, /answered with HTTP 429/],
      ['answers 503', 'OPENAI', { status: 503 }, /answered with HTTP 503/],
      ['drops the connection', 'ANTHROPIC', { drop: true }, /could not be reached/],
      ['drops the connection', 'OPENAI', { drop: true }, /could not be reached/],
      ['answers too slowly', 'ANTHROPIC', { delayMs: CHECK_TIMEOUT_MS * 5 }, /did not answer within 300 ms/],
      ['answers too slowly', 'OPENAI', { delayMs: CHECK_TIMEOUT_MS * 5 }, /did not answer within 300 ms/],
    ] as [string, 'ANTHROPIC' | 'OPENAI', StandInBehaviour, RegExp][])(
      'gives PROVIDER_UNREACHABLE when the provider %s (%s), after one request and with nothing stored',
      async (_case, provider, behaviour, message) => {
        const { organization, admin } = await organizationWithAdmin();
        const apiKey = key(provider);
        standIn.script(provider, behaviour);
        const started = Date.now();

        const result = await connect(admin, organization.id, provider, apiKey);

        expect(result.data).toBeNull();
        expect(result.errors?.[0].extensions.code).toBe('PROVIDER_UNREACHABLE');
        expect(result.errors?.[0].message).toMatch(message);
        // No retries, and retry-after is never slept on.
        expect(standIn.requests).toHaveLength(1);
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(await stored(organization.id)).toEqual([]);
        expect(await auditActions(organization.id)).toEqual([]);
      },
    );

    it('keeps the current key when a rotation is refused by the provider', async () => {
      const { organization, admin } = await organizationWithAdmin();
      const good = key('OPENAI');
      await connect(admin, organization.id, 'OPENAI', good);
      const [before] = await stored(organization.id);

      const refused = await connect(admin, organization.id, 'OPENAI', key('OPENAI', { accepted: false }));

      expect(refused.errors?.[0].extensions.code).toBe('INVALID_API_KEY');
      expect(await stored(organization.id)).toEqual([before]);
      expect(await auditActions(organization.id)).toEqual(['PROVIDER_CONNECTED']);
    });

    it('gives NOT_FOUND to an operator connecting an organization that does not exist, before calling the provider', async () => {
      const result = await connect(OPERATOR, '00000000-0000-4000-8000-000000000000', 'ANTHROPIC', key('ANTHROPIC'));
      expect(result.errors?.[0].extensions.code).toBe('NOT_FOUND');
      expect(standIn.requests).toEqual([]);
    });

    it('ends with exactly one connection when two admins connect the same provider at once', async () => {
      const { organization, admin } = await organizationWithAdmin();
      const other = 'second-admin';
      await makeMembership(server.dataSource, organization, other, OrgRole.ADMIN);
      const keys = [key('ANTHROPIC'), key('ANTHROPIC')];

      const results = await Promise.all([connect(admin, organization.id, 'ANTHROPIC', keys[0]), connect(other, organization.id, 'ANTHROPIC', keys[1])]);

      expect(results.map((r) => r.errors)).toEqual([undefined, undefined]);
      const rows = await stored(organization.id);
      expect(rows).toHaveLength(1);
      expect(new Set(results.map((r) => r.data?.connectProvider.id))).toEqual(new Set([rows[0].id]));
      // The one that committed second rotated the first one's key: its key is the one stored.
      const rotation = results.find((r) => r.data?.connectProvider.rotatedAt !== null);
      expect(rotation).toBeDefined();
      expect(decrypt(rows[0]).slice(-4)).toBe(rotation?.data?.connectProvider.keyHint.slice(-4));
      expect((await auditActions(organization.id)).sort()).toEqual(['PROVIDER_CONNECTED', 'PROVIDER_KEY_ROTATED']);
    });
  });

  describe('disconnectProvider', () => {
    it('removes the connection and its ciphertext, then answers false when there is nothing left to remove', async () => {
      const { organization, admin } = await organizationWithAdmin();
      await connect(admin, organization.id, 'OPENAI', key('OPENAI'));
      await connect(admin, organization.id, 'ANTHROPIC', key('ANTHROPIC'));

      const first = await server.graphql(DISCONNECT, { as: admin, variables: { input: { organizationId: organization.id, provider: 'OPENAI' } } });
      const again = await server.graphql(DISCONNECT, { as: admin, variables: { input: { organizationId: organization.id, provider: 'OPENAI' } } });

      expect(first.data).toEqual({ disconnectProvider: true });
      expect(again.data).toEqual({ disconnectProvider: false });
      expect((await stored(organization.id)).map((row) => row.provider)).toEqual(['ANTHROPIC']);
      expect(await auditActions(organization.id)).toEqual(['PROVIDER_CONNECTED', 'PROVIDER_CONNECTED', 'PROVIDER_DISCONNECTED']);
      const listed = await server.graphql(`query($id: ID!) { organization(id: $id) { providerConnections { provider } } }`, { as: admin, variables: { id: organization.id } });
      expect(listed.data?.organization.providerConnections).toEqual([{ provider: 'ANTHROPIC' }]);
    });
  });

  describe('audit log', () => {
    it('records connect, rotate and disconnect with the actor and key hints only', async () => {
      const { organization, admin } = await organizationWithAdmin();
      const first = key('ANTHROPIC');
      const second = key('ANTHROPIC');
      const id = (await connect(admin, organization.id, 'ANTHROPIC', first)).data?.connectProvider.id;
      await connect(OPERATOR, organization.id, 'ANTHROPIC', second);
      await server.graphql(DISCONNECT, { as: admin, variables: { input: { organizationId: organization.id, provider: 'ANTHROPIC' } } });

      const result = await server.graphql(AUDIT_LOG, { as: admin, variables: { id: organization.id } });

      const hint = (k: string) => `…${k.slice(-4)}`;
      const state = (k: string) => ({ connectionId: id, provider: 'ANTHROPIC', keyHint: hint(k), status: 'VERIFIED' });
      expect(result.data?.organization.auditLog.edges.map((edge: any) => [edge.node.action, edge.node.actorId, edge.node.before, edge.node.after])).toEqual([
        ['PROVIDER_DISCONNECTED', admin, state(second), null],
        ['PROVIDER_KEY_ROTATED', 'ops', state(first), state(second)],
        ['PROVIDER_CONNECTED', admin, null, state(first)],
      ]);
      const everything = JSON.stringify(await server.dataSource.query('SELECT * FROM audit_event'));
      for (const used of usedKeys) expect(everything).not.toContain(used);
    });

    it('records the foundation mutations: organizations created and moved, memberships set, changed and removed', async () => {
      const parent = (await server.graphql(`mutation { createOrganization(input: { name: "Audit Parent" }) { id } }`, { as: OPERATOR })).data?.createOrganization.id;
      const child = (await server.graphql(`mutation { createOrganization(input: { name: "Audit Child" }) { id } }`, { as: OPERATOR })).data?.createOrganization.id;
      const membership = (role: string) =>
        server.graphql(`mutation($o: ID!, $r: OrgRole!) { setMembership(input: { organizationId: $o, userId: "ada", role: $r }) { role } }`, {
          as: OPERATOR,
          variables: { o: child, r: role },
        });
      await server.graphql(`mutation($o: ID!, $p: ID) { moveOrganization(input: { organizationId: $o, parentId: $p }) { id } }`, {
        as: OPERATOR,
        variables: { o: child, p: parent },
      });
      await membership('MEMBER');
      await membership('ADMIN');
      await membership('ADMIN'); // no change, no event
      const remove = () =>
        server.graphql(`mutation($o: ID!) { removeMembership(input: { organizationId: $o, userId: "ada" }) }`, { as: OPERATOR, variables: { o: child } });
      await remove();
      await remove(); // nothing removed, no event

      const result = await server.graphql(AUDIT_LOG, { as: OPERATOR, variables: { id: child } });

      expect(result.data?.organization.auditLog.edges.map((edge: any) => [edge.node.action, edge.node.actorId, edge.node.before, edge.node.after])).toEqual([
        ['MEMBERSHIP_REMOVED', 'ops', { userId: 'ada', role: 'ADMIN' }, null],
        ['MEMBERSHIP_SET', 'ops', { userId: 'ada', role: 'MEMBER' }, { userId: 'ada', role: 'ADMIN' }],
        ['MEMBERSHIP_SET', 'ops', null, { userId: 'ada', role: 'MEMBER' }],
        ['ORGANIZATION_MOVED', 'ops', { parentId: null }, { parentId: parent }],
        ['ORGANIZATION_CREATED', 'ops', null, { name: 'Audit Child', parentId: null }],
      ]);
    });

    it('writes no event for a change that failed', async () => {
      const { organization } = await organizationWithAdmin();
      const { organization: child } = await organizationWithAdmin(organization);
      const before = await auditActions(organization.id);

      const cycle = await server.graphql(`mutation($o: ID!, $p: ID) { moveOrganization(input: { organizationId: $o, parentId: $p }) { id } }`, {
        as: OPERATOR,
        variables: { o: organization.id, p: child.id },
      });

      expect(cycle.errors?.[0].extensions.code).toBe('CYCLE');
      expect(await auditActions(organization.id)).toEqual(before);
    });

    it('pages newest first with cursors, and caps a page at 100 events', async () => {
      const { organization, admin } = await organizationWithAdmin();
      await server.dataSource.query(
        `INSERT INTO audit_event (organization_id, actor_id, action, after)
         SELECT $1, 'seed', 'MEMBERSHIP_SET', jsonb_build_object('n', n) FROM generate_series(1, 125) AS n`,
        [organization.id],
      );
      const page = async (first: number, after?: string) =>
        (await server.graphql(AUDIT_LOG, { as: admin, variables: { id: organization.id, first, after } })).data?.organization.auditLog;

      const one = await page(50);
      const two = await page(50, one.pageInfo.endCursor);
      const three = await page(50, two.pageInfo.endCursor);
      const numbers = (p: any) => p.edges.map((edge: any) => edge.node.after.n);

      expect(numbers(one)).toEqual(Array.from({ length: 50 }, (_, i) => 125 - i));
      expect(numbers(two)).toEqual(Array.from({ length: 50 }, (_, i) => 75 - i));
      expect(numbers(three)).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
      expect([one.pageInfo.hasNextPage, two.pageInfo.hasNextPage, three.pageInfo.hasNextPage]).toEqual([true, true, false]);
      expect(three.pageInfo.endCursor).toBe(three.edges[24].cursor);
      expect((await page(1000)).edges).toHaveLength(100);
      expect(await page(0)).toEqual({ edges: [], pageInfo: { hasNextPage: true, endCursor: null } });
    });

    it.each([
      ['a negative first', { first: -1 }, 'first'],
      ['a cursor it did not make', { after: 'not-a-cursor' }, 'after'],
      ['a cursor of something else', { after: Buffer.from('audit:1 OR 1=1').toString('base64url') }, 'after'],
    ])('refuses %s with BAD_USER_INPUT', async (_case, args, field) => {
      const { organization, admin } = await organizationWithAdmin();
      const result = await server.graphql(AUDIT_LOG, { as: admin, variables: { id: organization.id, ...args } });
      expect(result.data?.organization.auditLog).toBeNull();
      expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it("reads many organizations' audit logs and connections in a fixed number of statements", async () => {
      const few = [await organizationWithAdmin()];
      const many = await Promise.all(Array.from({ length: 30 }, () => organizationWithAdmin()));
      const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id auditLog(first: 5) { edges { node { action } } } providerConnections { provider } } } }`;
      const read = (list: { organization: OrganizationEntity }[]) =>
        server.countStatements(async () => {
          const result = await server.graphql(query, {
            as: OPERATOR,
            variables: { r: list.map(({ organization }) => ({ __typename: 'Organization', id: organization.id })) },
          });
          expect(result.errors).toBeUndefined();
          expect(result.data?._entities).toHaveLength(list.length);
        });

      expect(await read(many)).toBe(await read(few));
    });
  });

  describe('a provider that refuses connections', () => {
    let unreachable: TestServer;
    beforeAll(async () => {
      // A port that was free a moment ago and has nothing listening: the connection is refused.
      const closed = await startProviderStandIn();
      const env = standInEnv(closed);
      await closed.close();
      unreachable = await startTestServer(env);
    });
    afterAll(async () => {
      await unreachable?.stop();
    });

    it.each(['ANTHROPIC', 'OPENAI'] as const)('gives PROVIDER_UNREACHABLE for %s and stores nothing', async (provider) => {
      const organization = await makeOrganization(unreachable.dataSource);
      const result = await unreachable.graphql(CONNECT, {
        as: OPERATOR,
        variables: { input: { organizationId: organization.id, provider, apiKey: key(provider) } },
      });
      expect(result.errors?.[0].extensions.code).toBe('PROVIDER_UNREACHABLE');
      expect(result.errors?.[0].message).toMatch(/could not be reached/);
      const rows = await unreachable.dataSource.query('SELECT count(*)::int AS n FROM provider_connection');
      expect(rows[0].n).toBe(0);
    });

    it('logs no key', () => {
      expect(unreachable.logs.filter((line) => KEY_PATTERN.test(line))).toEqual([]);
    });
  });

  it('never writes a key it was given to its logs', () => {
    expect(usedKeys.length).toBeGreaterThan(20);
    expect(server.logs.length).toBeGreaterThan(50);
    const leaked = server.logs.filter((line) => usedKeys.some((used) => line.includes(used)) || KEY_PATTERN.test(line));
    expect(leaked).toEqual([]);
  });
});
