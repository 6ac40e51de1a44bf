import { Provider } from '../../src/catalog/catalog';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeModelSettings, tenantMaker } from '../support/factories';
import { KEY_PATTERN, makeTestKey, type ProviderStandIn, type StandInBehaviour, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { OPERATOR, startTestServer, type TestServer } from '../support/test-server';

/**
 * Agent runs through the organization's accounts (DESIGN.md section 7), against the provider
 * stand-in over real HTTP, on a real database. The platform has an Anthropic account here but no
 * OpenAI one, so that a missing platform key shows.
 */

const REQUEST_TIMEOUT_MS = 400;
const PLATFORM_ANTHROPIC_KEY = makeTestKey('ANTHROPIC');

const RUN_FIELDS = `id status createdAt degradedFeatures
  agent { id }
  servedBy { model { id } billing connectionOwner { id } }
  output { text toolCalls { name input } }
  error { provider httpStatus type message }
  attempts { model { id } provider billing outcome reason httpStatus latencyMs inputTokens outputTokens startedAt error { type httpStatus } }`;
const RUN_AGENT = `mutation($input: RunAgentInput!) { runAgent(input: $input) { ${RUN_FIELDS} } }`;
const RUN = `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`;
const USAGE = `query($id: ID!, $from: DateTime!, $to: DateTime!) {
  organization(id: $id) { usage(from: $from, to: $to) { provider model { id } billing runs inputTokens outputTokens platformCredits } }
}`;

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'The weather in a city',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

interface Attempt {
  model: { id: string };
  provider: string;
  billing: string;
  outcome: string;
  reason: string | null;
  httpStatus: number | null;
  latencyMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
}

describe('agent runs', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  /** Every key handed to the service: none may show up in its logs. */
  const keys: string[] = [PLATFORM_ANTHROPIC_KEY];

  beforeAll(async () => {
    standIn = await startProviderStandIn({ acceptKeys: [PLATFORM_ANTHROPIC_KEY] });
    server = await startTestServer({
      ...standInEnv(standIn, { platformAnthropicKey: PLATFORM_ANTHROPIC_KEY }),
      PROVIDER_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });
  beforeEach(async () => {
    standIn.reset();
    // Each test starts with every account cool: a failure scripted by one (on the platform's key, shared by all) would cool it for the next.
    await server.dataSource.query('DELETE FROM model_cooldown');
  });
  afterEach(() => {
    const leaked = server.logs.filter((line) => KEY_PATTERN.test(line) || keys.some((key) => line.includes(key)));
    expect(leaked).toEqual([]);
  });

  const tenant = tenantMaker(() => server.dataSource, 'Runs', (apiKey) => {
    keys.push(apiKey);
    standIn.acceptKeys(apiKey);
  });

  async function agentIn(organization: OrganizationEntity, member: string, model?: string): Promise<string> {
    const result = await server.graphql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
      as: member,
      variables: { input: { organizationId: organization.id, name: 'Runner', model } },
    });
    expect(result.errors).toBeUndefined();
    return result.data?.createAgent.id;
  }

  const runAgent = (as: string, agentId: string, extra: Record<string, unknown> = {}) =>
    server.graphql(RUN_AGENT, { as, variables: { input: { agentId, messages: [{ role: 'USER', content: 'Hello there' }], ...extra } } });

  async function run(as: string, agentId: string, extra: Record<string, unknown> = {}) {
    const result = await runAgent(as, agentId, extra);
    expect(result.errors).toBeUndefined();
    return result.data?.runAgent;
  }

  const calls = () => standIn.requests.filter((request) => request.path !== '/v1/models').map((request) => [request.provider, request.model, request.apiKey]);
  const brief = (attempts: Attempt[]) => attempts.map((attempt) => [attempt.model.id, attempt.billing, attempt.outcome, attempt.reason, attempt.httpStatus]);

  /** An organization with its own Anthropic primary and OpenAI fallback, and an agent on the primary. */
  async function crossProvider() {
    const setup = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
    await makeModelSettings(server.dataSource, setup.organization, { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' });
    return { ...setup, agentId: await agentIn(setup.organization, setup.member) };
  }

  describe('when the primary answers', () => {
    it('records one SUCCEEDED attempt on the organization\'s own key, with its tokens', async () => {
      const { member, agentId, keyOf, organization } = await crossProvider();

      const result = await run(member, agentId, { system: 'Be brief.', maxTokens: 200 });

      expect(result).toMatchObject({
        status: 'SUCCEEDED',
        agent: { id: agentId },
        servedBy: { model: { id: 'claude-sonnet-4-6' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: organization.id } },
        output: { text: 'Echo: Hello there', toolCalls: [] },
        error: null,
        degradedFeatures: [],
      });
      expect(brief(result.attempts)).toEqual([['claude-sonnet-4-6', 'PROVIDER_ACCOUNT', 'SUCCEEDED', null, 200]]);
      // The stand-in counts a quarter of the characters: 'Be brief.' + 'Hello there' = 20 → 5; 'Echo: Hello there' = 17 → 5.
      expect(result.attempts[0]).toMatchObject({ provider: 'ANTHROPIC', inputTokens: 5, outputTokens: 5 });
      expect(calls()).toEqual([['ANTHROPIC', 'claude-sonnet-4-6', keyOf.ANTHROPIC]]);
      expect(standIn.requests[0].body).toMatchObject({ system: 'Be brief.', max_tokens: 200, messages: [{ role: 'user', content: 'Hello there' }] });
    });

    it('runs a platform pin on the platform\'s key, billed as platform credits', async () => {
      const { organization, member } = await tenant();
      const agentId = await agentIn(organization, member);

      const result = await run(member, agentId);

      expect(result.servedBy).toEqual({ model: { id: 'claude-sonnet-4-6' }, billing: 'PLATFORM_CREDITS', connectionOwner: null });
      expect(brief(result.attempts)).toEqual([['claude-sonnet-4-6', 'PLATFORM_CREDITS', 'SUCCEEDED', null, 200]]);
      expect(calls()).toEqual([['ANTHROPIC', 'claude-sonnet-4-6', PLATFORM_ANTHROPIC_KEY]]);
    });

    it('runs an inherited model on the giver\'s key', async () => {
      const giver = await tenant({ providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, giver.organization, { primaryModelId: 'gpt-5.4', offerToSubOrganizations: true });
      const { organization, member } = await tenant({ parent: giver.organization, providers: [Provider.OPENAI] });
      const agentId = await agentIn(organization, member);

      const result = await run(member, agentId);

      expect(result.servedBy).toEqual({ model: { id: 'gpt-5.4' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: giver.organization.id } });
      expect(calls()).toEqual([['OPENAI', 'gpt-5.4', giver.keyOf.OPENAI]]);
    });

    it('keeps the run for the monitor timeline: run(id) answers it as runAgent did', async () => {
      const { member, agentId } = await crossProvider();
      const result = await run(member, agentId);

      const read = await server.graphql(RUN, { as: member, variables: { id: result.id } });

      expect(read.errors).toBeUndefined();
      expect(read.data?.run).toEqual(result);
    });
  });

  describe('failover', () => {
    it.each<[string, StandInBehaviour, string, number | null]>([
      ['429 (rate limited, retry-after 30 s)', { status: 429, retryAfter: '30' }, 'RATE_LIMITED', 429],
      ['500', { status: 500 }, 'PROVIDER_ERROR', 500],
      ['503', { status: 503 }, 'PROVIDER_UNAVAILABLE', 503],
      ['529 (overloaded)', { status: 529 }, 'OVERLOADED', 529],
      ['a timeout', { delayMs: REQUEST_TIMEOUT_MS * 5 }, 'TIMEOUT', null],
      ['a dropped connection', { drop: true }, 'CONNECTION_FAILED', null],
    ])('after %s, sends the same request to the fallback on the other provider, at once', async (_case, behaviour, reason, httpStatus) => {
      const { member, agentId, keyOf } = await crossProvider();
      standIn.script('ANTHROPIC', behaviour);

      const started = performance.now();
      const result = await run(member, agentId, { system: 'Same request' });
      const elapsed = performance.now() - started;

      expect(result.status).toBe('SUCCEEDED');
      expect(brief(result.attempts)).toEqual([
        ['claude-sonnet-4-6', 'PROVIDER_ACCOUNT', 'FAILED', reason, httpStatus],
        ['gpt-5.4', 'PROVIDER_ACCOUNT', 'SUCCEEDED', null, 200],
      ]);
      expect(result.servedBy.model.id).toBe('gpt-5.4');
      expect(result.output.text).toBe('Echo: Hello there');
      expect(calls()).toEqual([
        ['ANTHROPIC', 'claude-sonnet-4-6', keyOf.ANTHROPIC],
        ['OPENAI', 'gpt-5.4', keyOf.OPENAI],
      ]);
      expect(standIn.requests[1].body).toMatchObject({ messages: [{ role: 'system', content: 'Same request' }, { role: 'user', content: 'Hello there' }] });
      // No backoff: a retry-after is never slept on, and no SDK retry happened (one call each).
      expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
      expect(Date.parse(result.attempts[1].startedAt)).toBeGreaterThanOrEqual(Date.parse(result.attempts[0].startedAt));
    });

    it.each([
      [400, 'INVALID_REQUEST', 'invalid_request_error'],
      [401, 'INVALID_API_KEY', 'authentication_error'],
      [404, 'NOT_FOUND', 'not_found_error'],
    ])('after %s, fails the run at once without trying the fallback', async (status, reason, type) => {
      const { member, agentId } = await crossProvider();
      standIn.script('ANTHROPIC', { status, message: 'The provider said no' });

      const result = await runAgent(member, agentId);

      expect(result.errors).toBeUndefined();
      const failed = result.data?.runAgent;
      expect(failed).toMatchObject({
        status: 'FAILED',
        servedBy: null,
        output: null,
        error: { provider: 'ANTHROPIC', httpStatus: status, type, message: 'The provider said no' },
      });
      expect(brief(failed.attempts)).toEqual([['claude-sonnet-4-6', 'PROVIDER_ACCOUNT', 'FAILED', reason, status]]);
      expect(calls()).toHaveLength(1);
    });

    it('marks the connection INVALID after a 401, as its admin sees, and VERIFIED again after a later success', async () => {
      const { organization, member, admin, agentId, keyOf } = await crossProvider();
      standIn.revokeKeys(keyOf.ANTHROPIC as string);
      const connections = async () =>
        (await server.graphql(`query($id: ID!) { organization(id: $id) { providerConnections { provider status } } }`, { as: admin, variables: { id: organization.id } }))
          .data?.organization.providerConnections;

      const failed = await run(member, agentId);

      expect(failed.status).toBe('FAILED');
      expect(failed.error).toMatchObject({ httpStatus: 401, type: 'authentication_error' });
      expect(await connections()).toEqual([
        { provider: 'ANTHROPIC', status: 'INVALID' },
        { provider: 'OPENAI', status: 'VERIFIED' },
      ]);

      standIn.acceptKeys(keyOf.ANTHROPIC as string);
      expect((await run(member, agentId)).status).toBe('SUCCEEDED');
      expect((await connections())[0]).toEqual({ provider: 'ANTHROPIC', status: 'VERIFIED' });
    });

    it('fails with the last error, both attempts on the timeline, when the fallback fails too', async () => {
      const { member, agentId } = await crossProvider();
      standIn.script('ANTHROPIC', { status: 529 });
      standIn.script('OPENAI', { status: 503, message: 'Down for maintenance' });

      const result = await run(member, agentId);

      expect(result.status).toBe('FAILED');
      expect(brief(result.attempts)).toEqual([
        ['claude-sonnet-4-6', 'PROVIDER_ACCOUNT', 'FAILED', 'OVERLOADED', 529],
        ['gpt-5.4', 'PROVIDER_ACCOUNT', 'FAILED', 'PROVIDER_UNAVAILABLE', 503],
      ]);
      expect(result.error).toEqual({ provider: 'OPENAI', httpStatus: 503, type: 'server_error', message: 'Down for maintenance' });
    });

    it('fails after one attempt when there is no fallback', async () => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6' });
      const agentId = await agentIn(organization, member);
      standIn.script('ANTHROPIC', { status: 429 });

      const result = await run(member, agentId);

      expect(result.status).toBe('FAILED');
      expect(brief(result.attempts)).toEqual([['claude-opus-4-6', 'PROVIDER_ACCOUNT', 'FAILED', 'RATE_LIMITED', 429]]);
    });

    it('never falls over to a platform model in an exclusive organization: the platform key is never used', async () => {
      const { organization, member, keyOf } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6', exclusive: true });
      const agentId = await agentIn(organization, member);
      standIn.script('ANTHROPIC', { status: 503 });

      const result = await run(member, agentId);

      expect(result.status).toBe('FAILED');
      expect(calls()).toEqual([['ANTHROPIC', 'claude-opus-4-6', keyOf.ANTHROPIC]]);
      expect(standIn.requests.some((request) => request.apiKey === PLATFORM_ANTHROPIC_KEY)).toBe(false);
    });

    it('falls over within an inherited exclusive pair, on the giver\'s keys', async () => {
      const giver = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await makeModelSettings(server.dataSource, giver.organization, { primaryModelId: 'claude-opus-4-6', fallbackModelId: 'gpt-5-mini', exclusive: true, offerToSubOrganizations: true });
      const { organization, member } = await tenant({ parent: giver.organization });
      const agentId = await agentIn(organization, member);
      standIn.script('ANTHROPIC', { status: 500 });

      const result = await run(member, agentId);

      expect(result.servedBy).toEqual({ model: { id: 'gpt-5-mini' }, billing: 'PROVIDER_ACCOUNT', connectionOwner: { id: giver.organization.id } });
      expect(calls()).toEqual([
        ['ANTHROPIC', 'claude-opus-4-6', giver.keyOf.ANTHROPIC],
        ['OPENAI', 'gpt-5-mini', giver.keyOf.OPENAI],
      ]);
    });

    it('records a fallback the platform cannot run (no platform OpenAI key) as a failed step without a call', async () => {
      const { organization, member } = await tenant();
      const agentId = await agentIn(organization, member);
      standIn.script('ANTHROPIC', { status: 429 });

      const result = await run(member, agentId);

      expect(result.status).toBe('FAILED');
      expect(brief(result.attempts)).toEqual([
        ['claude-sonnet-4-6', 'PLATFORM_CREDITS', 'FAILED', 'RATE_LIMITED', 429],
        ['gpt-5-mini', 'PLATFORM_CREDITS', 'FAILED', 'NO_CREDENTIALS', null],
      ]);
      expect(result.error).toMatchObject({ provider: 'OPENAI', type: 'no_credentials', message: expect.stringContaining('PLATFORM_OPENAI_API_KEY') });
      expect(calls()).toHaveLength(1);
    });
  });

  describe('refused before any call', () => {
    it('refuses a pin that is no longer available with MODEL_NOT_AVAILABLE', async () => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6' });
      const agentId = await agentIn(organization, member, 'gpt');
      await server.dataSource.query('UPDATE model_settings SET exclusive = true WHERE organization_id = $1', [organization.id]);

      const result = await runAgent(member, agentId);

      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions).toMatchObject({ code: 'MODEL_NOT_AVAILABLE', model: 'gpt-5.4', billing: 'PLATFORM_CREDITS' });
      expect(standIn.requests).toEqual([]);
      expect(await server.dataSource.query('SELECT id FROM run WHERE agent_id = $1', [agentId])).toEqual([]);
    });

    it('refuses a platform pin the platform has no key for, naming the variable', async () => {
      const { organization, member } = await tenant();
      const agentId = await agentIn(organization, member, 'mini');

      const result = await runAgent(member, agentId);

      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'MODEL_NOT_AVAILABLE' }, message: expect.stringContaining('PLATFORM_OPENAI_API_KEY') });
      expect(standIn.requests).toEqual([]);
    });

    it.each([
      ['no messages', { messages: [] }, 'input.messages'],
      ['a blank message', { messages: [{ role: 'USER', content: '  ' }] }, 'input.messages.0.content'],
      ['maxTokens 0', { maxTokens: 0 }, 'input.maxTokens'],
      ['a tool schema that is not an object schema', { tools: [{ name: 'x', inputSchema: { type: 'string' } }] }, 'input.tools.0.inputSchema'],
      ['a tool name with spaces', { tools: [{ name: 'get weather', inputSchema: { type: 'object' } }] }, 'input.tools.0.name'],
      ['two tools of one name', { tools: [WEATHER_TOOL, WEATHER_TOOL] }, 'input.tools.1.name'],
    ])('refuses %s with BAD_USER_INPUT', async (_case, extra, field) => {
      const { member, agentId } = await crossProvider();

      const result = await runAgent(member, agentId, extra);

      expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(standIn.requests).toEqual([]);
    });
  });

  describe('tools', () => {
    it('returns tool calls from Anthropic', async () => {
      const { member, agentId } = await crossProvider();
      standIn.script('ANTHROPIC', { reply: { text: 'Checking.', toolCalls: [{ name: 'get_weather', input: { city: 'Oslo' } }] } });

      const result = await run(member, agentId, { tools: [WEATHER_TOOL] });

      expect(result.output).toEqual({ text: 'Checking.', toolCalls: [{ name: 'get_weather', input: { city: 'Oslo' } }] });
      expect(standIn.requests[0].body).toMatchObject({ tools: [{ name: 'get_weather', description: 'The weather in a city', input_schema: WEATHER_TOOL.inputSchema }] });
    });

    it('returns tool calls from OpenAI', async () => {
      const { organization, member } = await tenant({ providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'gpt-5.4' });
      const agentId = await agentIn(organization, member);
      standIn.script('OPENAI', { reply: { text: '', toolCalls: [{ name: 'get_weather', input: { city: 'Lima' } }] } });

      const result = await run(member, agentId, { tools: [WEATHER_TOOL] });

      expect(result.output).toEqual({ text: '', toolCalls: [{ name: 'get_weather', input: { city: 'Lima' } }] });
      expect(standIn.requests[0].body).toMatchObject({ tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER_TOOL.inputSchema } }] });
    });

    it('skips claude-haiku-4-5 for a request with tools when the fallback has AGENT_TOOLS', async () => {
      const { organization, member, keyOf } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-haiku-4-5', fallbackModelId: 'gpt-5.4' });
      const agentId = await agentIn(organization, member);

      const result = await run(member, agentId, { tools: [WEATHER_TOOL] });

      expect(brief(result.attempts)).toEqual([
        ['claude-haiku-4-5', 'PROVIDER_ACCOUNT', 'SKIPPED', 'UNSUPPORTED_FEATURE', null],
        ['gpt-5.4', 'PROVIDER_ACCOUNT', 'SUCCEEDED', null, 200],
      ]);
      expect(result.attempts[0].latencyMs).toBe(0);
      expect(result.degradedFeatures).toEqual([]);
      expect(calls()).toEqual([['OPENAI', 'gpt-5.4', keyOf.OPENAI]]);
      expect(standIn.requests[0].body).toMatchObject({ tools: [expect.objectContaining({ type: 'function' })] });
    });

    it.each([
      ['a fallback without AGENT_TOOLS', 'gpt-5-nano'],
      ['no fallback', null],
    ])('sends claude-haiku-4-5 the request without tools, with %s, and lists AGENT_TOOLS as degraded', async (_case, fallbackModelId) => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-haiku-4-5', fallbackModelId });
      const agentId = await agentIn(organization, member);

      const result = await run(member, agentId, { tools: [WEATHER_TOOL] });

      expect(result.status).toBe('SUCCEEDED');
      expect(brief(result.attempts)).toEqual([['claude-haiku-4-5', 'PROVIDER_ACCOUNT', 'SUCCEEDED', null, 200]]);
      expect(result.degradedFeatures).toEqual(['AGENT_TOOLS']);
      expect(standIn.requests[0].body).not.toHaveProperty('tools');
    });

    it('lists AGENT_TOOLS as degraded when a tool-capable primary fails over to a fallback without it', async () => {
      const { organization, member } = await tenant({ providers: [Provider.ANTHROPIC, Provider.OPENAI] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-opus-4-6', fallbackModelId: 'gpt-5-nano' });
      const agentId = await agentIn(organization, member);
      standIn.script('ANTHROPIC', { status: 529 });

      const result = await run(member, agentId, { tools: [WEATHER_TOOL] });

      expect(result.servedBy.model.id).toBe('gpt-5-nano');
      expect(result.degradedFeatures).toEqual(['AGENT_TOOLS']);
      expect(standIn.requests[0].body).toHaveProperty('tools');
      expect(standIn.requests[1].body).not.toHaveProperty('tools');
    });
  });

  describe('usage', () => {
    it('sums the calls by provider, model and billing, with platform credits only for platform calls', async () => {
      const { organization, member, admin } = await tenant({ providers: [Provider.OPENAI] });
      await makeModelSettings(server.dataSource, organization, { primaryModelId: 'gpt-5.4' });
      const byom = await agentIn(organization, member); // gpt-5.4 on the organization's own OpenAI account
      const platform = await agentIn(organization, member, 'opus'); // claude-opus-4-6 on the platform's Anthropic account
      const from = new Date().toISOString();

      standIn.script('OPENAI', { reply: { text: 'one', inputTokens: 1_000, outputTokens: 100 } }, { reply: { text: 'two', inputTokens: 2_000, outputTokens: 300 } }, { status: 500 });
      standIn.script('ANTHROPIC', { reply: { text: 'three', inputTokens: 10_000, outputTokens: 2_000 } }, { reply: { text: 'four', inputTokens: 30_000, outputTokens: 4_000 } });
      for (const agentId of [byom, byom, byom, platform, platform]) await run(member, agentId);
      const to = new Date(Date.now() + 1_000).toISOString();

      const result = await server.graphql(USAGE, { as: admin, variables: { id: organization.id, from, to } });

      expect(result.errors).toBeUndefined();
      expect(result.data?.organization.usage).toEqual([
        // claude-opus-4-6 costs 500 credits per million input tokens and 2,500 per million output tokens.
        { provider: 'ANTHROPIC', model: { id: 'claude-opus-4-6' }, billing: 'PLATFORM_CREDITS', runs: 2, inputTokens: 40_000, outputTokens: 6_000, platformCredits: 35 },
        // The failed call counts as a run that reached the model, with no tokens.
        { provider: 'OPENAI', model: { id: 'gpt-5.4' }, billing: 'PROVIDER_ACCOUNT', runs: 3, inputTokens: 3_000, outputTokens: 400, platformCredits: 0 },
      ]);
    });

    it('counts only the calls within [from, to), and refuses an empty or reversed period', async () => {
      const { organization, member, admin } = await tenant();
      const agentId = await agentIn(organization, member);
      await run(member, agentId);
      const now = Date.now();
      const usage = (from: number, to: number) =>
        server.graphql(USAGE, { as: admin, variables: { id: organization.id, from: new Date(from).toISOString(), to: new Date(to).toISOString() } });

      expect((await usage(now - 3_600_000, now - 60_000)).data?.organization.usage).toEqual([]);
      expect((await usage(now - 60_000, now + 60_000)).data?.organization.usage).toHaveLength(1);
      expect((await usage(now, now)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
      expect((await usage(now, now - 1)).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    });

    it('costs one SQL statement for the usage of 20 organizations read together', async () => {
      const organizations: OrganizationEntity[] = [];
      for (let index = 0; index < 20; index += 1) organizations.push((await tenant()).organization);
      const query = `query($r: [_Any!]!, $from: DateTime!, $to: DateTime!) { _entities(representations: $r) { ... on Organization { usage(from: $from, to: $to) { runs } } } }`;
      const variables = (some: OrganizationEntity[]) => ({
        r: some.map((organization) => ({ __typename: 'Organization', id: organization.id })),
        from: new Date(Date.now() - 60_000).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
      });
      const count = (some: OrganizationEntity[]) =>
        server.countStatements(async () => {
          const result = await server.graphql(query, { as: OPERATOR, variables: variables(some) });
          expect(result.errors).toBeUndefined();
          expect(result.data?._entities).toHaveLength(some.length);
        });

      const one = await count(organizations.slice(0, 1));
      const twenty = await count(organizations);

      expect(twenty).toBe(one);
      expect(one).toBe(2); // the organizations by id, then the usage of all of them
    });
  });
});
