import { SignJWT, type JWTPayload } from 'jose';
import { type GraphQLResponse, startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/test-server';

/**
 * Claims are checked strictly (DESIGN.md section 2), over real HTTP: a token whose `sub`, `roles`
 * or `exp` is malformed is UNAUTHENTICATED before any SQL, never an operator and never an
 * internal error.
 */

const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the test server's secret; `claims` replace the defaults (sub alice, an hour). */
const signed = (claims: Record<string, unknown>) =>
  new SignJWT({ sub: 'alice', exp: now() + 3600, ...claims } as JWTPayload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));

const bearer = async (claims: Record<string, unknown>) => ({ raw: `Bearer ${await signed(claims)}` });

const VIEWER = `{ viewer { userId isOperator organizations { id } } }`;

describe('token claims over HTTP (DESIGN.md section 2)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Error-level log lines (pino level 50 and above) written since `from`. */
  const errorLinesSince = (from: number) => server.logs.slice(from).filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

  it.each([
    ['holds a NUL', { sub: 'ali\u0000ce' }],
    ['is a NUL alone', { sub: '\u0000' }],
    ['is a single space', { sub: ' ' }],
    ['holds a right-to-left override', { sub: 'alice\u202e' }],
  ])('gives a token whose sub %s UNAUTHENTICATED, not INTERNAL_SERVER_ERROR, before any SQL', async (_case, claims) => {
    const as = await bearer(claims);
    const logged = server.logs.length;
    let result: GraphQLResponse | undefined;
    const statements = await server.countStatements(async () => {
      result = await server.graphql(VIEWER, { as });
    });
    expect(result?.status).toBe(200);
    expect(result?.data).toBeNull();
    expect(result?.errors).toEqual([
      expect.objectContaining({ path: ['viewer'], message: expect.stringMatching(/^The token is not valid: sub /), extensions: { code: 'UNAUTHENTICATED' } }),
    ]);
    expect(statements).toBe(0);
    expect(errorLinesSince(logged)).toEqual([]);
  });

  it('reads the viewer of a sound token, for contrast', async () => {
    const result = await server.graphql(VIEWER, { as: await bearer({ sub: 'alice' }) });
    expect(result.errors).toBeUndefined();
    expect(result.data?.viewer).toEqual({ userId: 'alice', isOperator: false, organizations: [] });
  });

  it.each([
    ['the string "not operator"', 'not operator'],
    ['the string "operator"', 'operator'],
    ['an array holding a non-string beside operator', ['operator', 7]],
  ])('never lets a token whose roles is %s act as an operator: UNAUTHENTICATED, and no organization is made', async (_case, roles) => {
    const name = `Made by roles ${JSON.stringify(roles)}`;
    const result = await server.graphql(`mutation($name: String!) { createOrganization(input: { name: $name }) { id } }`, {
      as: await bearer({ sub: 'mallory', roles }),
      variables: { name },
    });
    expect(result.data).toBeNull();
    expect(result.errors).toEqual([
      expect.objectContaining({ path: ['createOrganization'], message: 'The token is not valid: roles must be an array of strings', extensions: { code: 'UNAUTHENTICATED' } }),
    ]);
    expect(await server.dataSource.query('SELECT count(*)::int AS n FROM organization WHERE name = $1', [name])).toEqual([{ n: 0 }]);
  });

  it('lets a token whose roles is the array ["operator"] act as an operator', async () => {
    const result = await server.graphql(`{ viewer { userId isOperator } }`, { as: await bearer({ sub: 'ops', roles: ['operator'] }) });
    expect(result.data?.viewer).toEqual({ userId: 'ops', isOperator: true });
  });

  it('refuses a token whose exp lies more than a day ahead (AUTH_JWT_MAX_TTL unset), and takes one that lies a day ahead', async () => {
    const week = await server.graphql(`{ viewer { userId } }`, { as: await bearer({ exp: now() + 7 * 86_400 }) });
    expect(week.errors?.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
    const day = await server.graphql(`{ viewer { userId } }`, { as: await bearer({ exp: now() + 86_400 }) });
    expect(day.data?.viewer).toEqual({ userId: 'alice' });
  });

  describe('with AUTH_JWT_MAX_TTL=1h', () => {
    let strict: TestServer;
    beforeAll(async () => {
      strict = await startTestServer({ AUTH_JWT_MAX_TTL: '1h' });
    });
    afterAll(async () => {
      await strict?.stop();
    });

    it("refuses the development command's default 12-hour token and takes a 30-minute one", async () => {
      const long = await strict.graphql(`{ viewer { userId } }`, { as: { raw: `Bearer ${await strict.token('alice')}` } });
      expect(long.errors?.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
      const short = await strict.graphql(`{ viewer { userId } }`, { as: { raw: `Bearer ${await strict.token('alice', { ttl: '30m' })}` } });
      expect(short.data?.viewer).toEqual({ userId: 'alice' });
    });
  });
});
