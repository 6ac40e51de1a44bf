import { Provider } from '../../src/catalog/catalog';
import { makeModelSettings, tenantMaker } from '../support/factories';
import { KEY_PATTERN, makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { TestClock } from '../support/routing';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Cooldowns (DESIGN.md section 7): a retriable failure of a model on an account cools that pair,
 * in PostgreSQL; runs pass over a cooling candidate while another does not cool. Against the
 * provider stand-in over real HTTP, with a clock the test moves.
 */

const PLATFORM_ANTHROPIC_KEY = makeTestKey('ANTHROPIC');
const PLATFORM_OPENAI_KEY = makeTestKey('OPENAI');
const SECOND = 1_000;

const RUN_AGENT = `mutation($input: RunAgentInput!) { runAgent(input: $input) {
  status error { httpStatus type }
  attempts { model { id } billing outcome reason httpStatus }
} }`;
const COOLDOWNS = `query($id: ID!) { organization(id: $id) { providerConnections { provider cooldowns { model { id } until reason failures } } } }`;

interface Attempt {
  model: { id: string };
  billing: string;
  outcome: string;
  reason: string | null;
  httpStatus: number | null;
}

describe('cooldowns', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  const clock = new TestClock();
  const keys: string[] = [PLATFORM_ANTHROPIC_KEY, PLATFORM_OPENAI_KEY];

  beforeAll(async () => {
    standIn = await startProviderStandIn({ acceptKeys: [PLATFORM_ANTHROPIC_KEY, PLATFORM_OPENAI_KEY] });
    server = await startTestServer(
      { ...standInEnv(standIn, { platformAnthropicKey: PLATFORM_ANTHROPIC_KEY }), PLATFORM_OPENAI_API_KEY: PLATFORM_OPENAI_KEY },
      { routing: { clock } },
    );
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());
  afterEach(() => {
    const leaked = server.logs.filter((line) => KEY_PATTERN.test(line) || keys.some((key) => line.includes(key)));
    expect(leaked).toEqual([]);
  });

  const newTenant = tenantMaker(() => server.dataSource, 'Cooling', (apiKey) => {
    keys.push(apiKey);
    standIn.acceptKeys(apiKey);
  });
  /** An organization with a member and an admin, its providers connected with keys the stand-in accepts, and an agent on its primary. */
  async function tenant(settings?: { primaryModelId: string; fallbackModelId?: string; exclusive?: boolean }, providers = [Provider.ANTHROPIC, Provider.OPENAI]) {
    const { organization, member, admin, keyOf } = await newTenant({ providers });
    if (settings) await makeModelSettings(server.dataSource, organization, settings);
    const created = await server.graphql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
      as: member,
      variables: { input: { organizationId: organization.id, name: 'Runner' } },
    });
    expect(created.errors).toBeUndefined();
    return { organization, member, admin, keyOf, agentId: created.data?.createAgent.id as string };
  }

  /** An organization with its own Anthropic primary and OpenAI fallback. */
  const crossProvider = () => tenant({ primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' });

  async function run(as: string, agentId: string) {
    const result = await server.graphql(RUN_AGENT, { as, variables: { input: { agentId, messages: [{ role: 'USER', content: 'Hello there' }] } } });
    expect(result.errors).toBeUndefined();
    return result.data?.runAgent as { status: string; error: { httpStatus: number | null } | null; attempts: Attempt[] };
  }

  const brief = (attempts: Attempt[]) => attempts.map((attempt) => [attempt.model.id, attempt.outcome, attempt.reason, attempt.httpStatus]);
  const chatCalls = () => standIn.requests.filter((request) => request.path !== '/v1/models');

  async function cooldownsOf(admin: string, organizationId: string) {
    const result = await server.graphql(COOLDOWNS, { as: admin, variables: { id: organizationId } });
    expect(result.errors).toBeUndefined();
    const connections = result.data?.organization.providerConnections as { provider: string; cooldowns: { model: { id: string }; until: string; reason: string; failures: number }[] }[];
    return connections.flatMap(({ provider, cooldowns }) =>
      cooldowns.map(({ model, until, reason, failures }) => ({ provider, model: model.id, seconds: Math.round((Date.parse(until) - clock.now()) / SECOND), reason, failures })),
    );
  }

  describe('a primary answering 429 with retry-after: 30', () => {
    it('fails over once, then passes over the primary with one call per run until the end, and a success after it clears the cooldown', async () => {
      const { member, admin, agentId, organization, keyOf } = await crossProvider();
      standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 429, retryAfter: '30' });

      const first = await run(member, agentId);
      expect(brief(first.attempts)).toEqual([
        ['claude-sonnet-4-6', 'FAILED', 'RATE_LIMITED', 429],
        ['gpt-5.4', 'SUCCEEDED', null, 200],
      ]);
      expect(chatCalls()).toHaveLength(2);
      expect(await cooldownsOf(admin, organization.id)).toEqual([{ provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', seconds: 30, reason: 'RATE_LIMITED', failures: 1 }]);

      for (let index = 0; index < 10; index += 1) {
        standIn.requests.length = 0;
        const next = await run(member, agentId);
        expect(next.status).toBe('SUCCEEDED');
        expect(brief(next.attempts)).toEqual([
          ['claude-sonnet-4-6', 'SKIPPED', 'COOLING_DOWN', null],
          ['gpt-5.4', 'SUCCEEDED', null, 200],
        ]);
        expect(chatCalls().map((call) => [call.model, call.apiKey])).toEqual([['gpt-5.4', keyOf.OPENAI]]);
        clock.advance(2 * SECOND);
      }

      // 20 s have passed; at 30 s the cooldown ends and the next run tries the primary again (half-open).
      clock.advance(10 * SECOND);
      standIn.reset();
      const after = await run(member, agentId);
      expect(brief(after.attempts)).toEqual([['claude-sonnet-4-6', 'SUCCEEDED', null, 200]]);
      expect(chatCalls()).toHaveLength(1);
      expect(await cooldownsOf(admin, organization.id)).toEqual([]);
      const rows = await server.dataSource.query('SELECT count(*)::int AS count FROM model_cooldown WHERE account = $1', [
        (await server.dataSource.query('SELECT id FROM provider_connection WHERE organization_id = $1 AND provider = $2', [organization.id, 'ANTHROPIC']))[0].id,
      ]);
      expect(rows).toEqual([{ count: 0 }]);
    });

    it('cools a pair again, for twice as long, when its half-open try fails without a retry-after', async () => {
      const { member, admin, agentId, organization, keyOf } = await crossProvider();
      standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 503 });

      await run(member, agentId);
      expect(await cooldownsOf(admin, organization.id)).toEqual([{ provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', seconds: 30, reason: 'PROVIDER_UNAVAILABLE', failures: 1 }]);

      clock.advance(30 * SECOND);
      standIn.requests.length = 0;
      const retried = await run(member, agentId);
      expect(brief(retried.attempts)).toEqual([
        ['claude-sonnet-4-6', 'FAILED', 'PROVIDER_UNAVAILABLE', 503],
        ['gpt-5.4', 'SUCCEEDED', null, 200],
      ]);
      expect(await cooldownsOf(admin, organization.id)).toEqual([{ provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', seconds: 60, reason: 'PROVIDER_UNAVAILABLE', failures: 2 }]);
    });
  });

  it('keeps a later end when a later retry-after asks for less, and still tries a primary that has no fallback', async () => {
    const { member, admin, agentId, organization, keyOf } = await tenant({ primaryModelId: 'claude-sonnet-4-6' }, [Provider.ANTHROPIC]);
    standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 429, retryAfter: '30' });
    const first = await run(member, agentId);
    expect(brief(first.attempts)).toEqual([['claude-sonnet-4-6', 'FAILED', 'RATE_LIMITED', 429]]);

    clock.advance(5 * SECOND);
    standIn.reset();
    standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 429, retryAfter: '1' });
    const second = await run(member, agentId);
    // A plan of one candidate: nothing to pass over to, so the cooling primary is tried.
    expect(brief(second.attempts)).toEqual([['claude-sonnet-4-6', 'FAILED', 'RATE_LIMITED', 429]]);
    expect(chatCalls()).toHaveLength(1);
    expect(second).toMatchObject({ status: 'FAILED', error: { httpStatus: 429 } });
    expect(await cooldownsOf(admin, organization.id)).toEqual([{ provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', seconds: 25, reason: 'RATE_LIMITED', failures: 2 }]);
  });

  it('cools the fallback alone for its own 429, and tries the candidate whose cooldown ends first when both cool', async () => {
    const { member, admin, agentId, organization, keyOf } = await crossProvider();
    standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 429, retryAfter: '120' });
    standIn.always({ model: 'gpt-5.4', apiKey: keyOf.OPENAI }, { status: 429, retryAfter: '10' });

    const first = await run(member, agentId);
    expect(brief(first.attempts)).toEqual([
      ['claude-sonnet-4-6', 'FAILED', 'RATE_LIMITED', 429],
      ['gpt-5.4', 'FAILED', 'RATE_LIMITED', 429],
    ]);
    // Each failure cooled its own pair: the primary's cooldown is its own 120 s, once.
    expect(await cooldownsOf(admin, organization.id)).toEqual([
      { provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', seconds: 120, reason: 'RATE_LIMITED', failures: 1 },
      { provider: 'OPENAI', model: 'gpt-5.4', seconds: 10, reason: 'RATE_LIMITED', failures: 1 },
    ]);

    // Both cool: the run is not failed untried; the fallback's cooldown ends first, so it goes first.
    standIn.reset();
    const both = await run(member, agentId);
    expect(brief(both.attempts)).toEqual([['gpt-5.4', 'SUCCEEDED', null, 200]]);
    expect(chatCalls().map((call) => call.model)).toEqual(['gpt-5.4']);
    expect(await cooldownsOf(admin, organization.id)).toEqual([{ provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', seconds: 120, reason: 'RATE_LIMITED', failures: 1 }]);

    // The fallback fails while the primary is passed over: that cools the fallback, and leaves the primary's cooldown as it was.
    standIn.always({ model: 'gpt-5.4', apiKey: keyOf.OPENAI }, { status: 503 });
    standIn.requests.length = 0;
    const third = await run(member, agentId);
    expect(brief(third.attempts)).toEqual([
      ['claude-sonnet-4-6', 'SKIPPED', 'COOLING_DOWN', null],
      ['gpt-5.4', 'FAILED', 'PROVIDER_UNAVAILABLE', 503],
    ]);
    expect(third).toMatchObject({ status: 'FAILED', error: { httpStatus: 503 } });
    expect(await cooldownsOf(admin, organization.id)).toEqual([
      { provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', seconds: 120, reason: 'RATE_LIMITED', failures: 1 },
      { provider: 'OPENAI', model: 'gpt-5.4', seconds: 30, reason: 'PROVIDER_UNAVAILABLE', failures: 1 },
    ]);
  });

  it('never passes over to a platform model in an exclusive organization: its cooling primary is tried on its own key', async () => {
    const { member, agentId, keyOf } = await tenant({ primaryModelId: 'claude-sonnet-4-6', exclusive: true }, [Provider.ANTHROPIC]);
    standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 429, retryAfter: '30' });
    await run(member, agentId);
    standIn.requests.length = 0;

    const next = await run(member, agentId);
    expect(brief(next.attempts)).toEqual([['claude-sonnet-4-6', 'FAILED', 'RATE_LIMITED', 429]]);
    expect(chatCalls().map((call) => call.apiKey)).toEqual([keyOf.ANTHROPIC]);
  });

  it('cools a platform model on the platform\'s account for every organization, and logs it', async () => {
    const one = await tenant(undefined, []);
    const other = await tenant(undefined, []);
    standIn.always({ model: 'claude-sonnet-4-6', apiKey: PLATFORM_ANTHROPIC_KEY }, { status: 529 });

    const first = await run(one.member, one.agentId);
    expect(brief(first.attempts)).toEqual([
      ['claude-sonnet-4-6', 'FAILED', 'OVERLOADED', 529],
      ['gpt-5-mini', 'SUCCEEDED', null, 200],
    ]);
    const logged = server.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'model cooling down');
    expect(logged.at(-1)).toMatchObject({ account: 'platform:ANTHROPIC', provider: 'ANTHROPIC', modelId: 'claude-sonnet-4-6', reason: 'OVERLOADED', failures: 1 });

    standIn.requests.length = 0;
    const elsewhere = await run(other.member, other.agentId);
    expect(brief(elsewhere.attempts)).toEqual([
      ['claude-sonnet-4-6', 'SKIPPED', 'COOLING_DOWN', null],
      ['gpt-5-mini', 'SUCCEEDED', null, 200],
    ]);
    expect(chatCalls().map((call) => call.apiKey)).toEqual([PLATFORM_OPENAI_KEY]);
    clock.advance(30 * SECOND);
    standIn.reset();
    await run(other.member, other.agentId);
  });

  it('clears a connection\'s cooldowns when its key is replaced (a rotation)', async () => {
    const { member, admin, agentId, organization, keyOf } = await crossProvider();
    standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 429, retryAfter: '30' });
    await run(member, agentId);
    expect(await cooldownsOf(admin, organization.id)).toHaveLength(1);

    const rotated = makeTestKey('ANTHROPIC');
    keys.push(rotated);
    standIn.acceptKeys(rotated);
    const connect = await server.graphql(`mutation($input: ConnectProviderInput!) { connectProvider(input: $input) { id cooldowns { model { id } } } }`, {
      as: admin,
      variables: { input: { organizationId: organization.id, provider: 'ANTHROPIC', apiKey: rotated } },
    });
    expect(connect.errors).toBeUndefined();
    expect(connect.data?.connectProvider.cooldowns).toEqual([]);
    expect(await cooldownsOf(admin, organization.id)).toEqual([]);

    standIn.requests.length = 0;
    const next = await run(member, agentId);
    expect(brief(next.attempts)).toEqual([['claude-sonnet-4-6', 'SUCCEEDED', null, 200]]);
    expect(chatCalls().map((call) => call.apiKey)).toEqual([rotated]);
  });

  it('costs a run no SQL statement to read the cooldowns: passing over a cooling primary costs what a run served at once does', async () => {
    const { member, agentId, keyOf } = await crossProvider();
    // A first run moves the keys' last use, so that neither run below writes it.
    await run(member, agentId);
    await run(member, agentId);
    const served = await server.countStatements(() => run(member, agentId));

    standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 429, retryAfter: '30' });
    await run(member, agentId);
    const passedOver = await server.countStatements(() => run(member, agentId));
    expect(passedOver).toBe(served);
  });
});
