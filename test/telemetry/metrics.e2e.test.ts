import type { QueryRunner } from 'typeorm';
import { Provider } from '../../src/catalog/catalog';
import { makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole } from '../support/factories';
import { type Exposition, scrape } from '../support/prometheus';
import { makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Prometheus metrics at /metrics (DESIGN.md section 11): the series an operator reads, moved by
 * exactly what happened, labelled from closed sets only.
 */

const ROUTER_SECRET = 'metrics-test-router-secret-0123456789';
const viaRouter = { 'router-authorization': ROUTER_SECRET };
const RUN_AGENT = `mutation RunIt($input: RunAgentInput!) { runAgent(input: $input) { id status attempts { outcome reason } } }`;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('metrics at /metrics', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  /** Every id the tests made or were given: none may be a label value. */
  const ids: string[] = [];

  beforeAll(async () => {
    standIn = await startProviderStandIn();
    server = await startTestServer({ ...standInEnv(standIn), ROUTER_SECRET, PROVIDER_REQUEST_TIMEOUT_MS: '2000' });
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  let counter = 0;
  /** An organization with its own Anthropic primary and OpenAI fallback, a member, and an agent on the primary. */
  async function tenant() {
    counter += 1;
    const organization = await makeOrganization(server.dataSource, { name: `Metrics ${counter}` });
    const member = `metrics-member-${counter}`;
    await makeMembership(server.dataSource, organization, member, OrgRole.MEMBER);
    for (const provider of [Provider.ANTHROPIC, Provider.OPENAI]) {
      const key = makeTestKey(provider);
      standIn.acceptKeys(key);
      await makeConnection(server.dataSource, organization, provider, key);
    }
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' });
    const created = await server.graphql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
      as: member,
      headers: viaRouter,
      variables: { input: { organizationId: organization.id, name: 'Metered' } },
    });
    expect(created.errors).toBeUndefined();
    const agentId: string = created.data?.createAgent.id;
    ids.push(organization.id, member, agentId);
    return { member, agentId };
  }

  async function run(member: string, agentId: string) {
    const result = await server.graphql(RUN_AGENT, {
      as: member,
      headers: { ...viaRouter, 'x-request-id': `metrics-request-${counter}` },
      variables: { input: { agentId, messages: [{ role: 'USER', content: 'Count me' }] } },
    });
    expect(result.errors).toBeUndefined();
    ids.push(result.data?.runAgent.id, `metrics-request-${counter}`);
    return result.data?.runAgent;
  }

  const attempts = (metrics: Exposition, labels: Record<string, string> = {}) => metrics.sum('byom_provider_attempts_total', labels);

  it('answers Prometheus text without the router secret, with the series an operator reads', async () => {
    const metrics = await scrape(server.url);

    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const [name, type] of [
      ['byom_graphql_requests_total', 'counter'],
      ['byom_graphql_request_duration_seconds', 'histogram'],
      ['byom_errors_total', 'counter'],
      ['byom_provider_attempts_total', 'counter'],
      ['byom_run_failovers_total', 'counter'],
      ['byom_connection_status_changes_total', 'counter'],
      ['byom_key_checks_total', 'counter'],
      ['byom_db_pool_total_connections', 'gauge'],
      ['byom_db_pool_idle_connections', 'gauge'],
      ['byom_db_pool_waiting_connections', 'gauge'],
      ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
    ] as const) {
      expect([name, metrics.types.get(name)]).toEqual([name, type]);
    }
    // The GraphQL route still answers only the router.
    const refused = await server.graphql('{ modelCatalog { id } }');
    expect(refused.status).toBe(401);
  });

  it('counts a served run, a failover and a refused key by exactly what happened', async () => {
    const { member, agentId } = await tenant();
    const before = await scrape(server.url);

    expect((await run(member, agentId)).attempts).toEqual([{ outcome: 'SUCCEEDED', reason: null }]);
    standIn.script('ANTHROPIC', { status: 503 });
    expect((await run(member, agentId)).attempts).toEqual([
      { outcome: 'FAILED', reason: 'PROVIDER_UNAVAILABLE' },
      { outcome: 'SUCCEEDED', reason: null },
    ]);
    // The 503 cooled the primary on this key (DESIGN.md section 7); the next run would pass it over. As if the cooldown ended:
    await server.dataSource.query('DELETE FROM model_cooldown');
    standIn.script('ANTHROPIC', { status: 401 });
    expect((await run(member, agentId)).attempts).toEqual([{ outcome: 'FAILED', reason: 'INVALID_API_KEY' }]);
    const missing = await server.graphql('query Missing($id: ID!) { run(id: $id) { id } }', {
      as: member,
      headers: viaRouter,
      variables: { id: '00000000-0000-4000-8000-000000000000' },
    });
    // A member may not read a run that is not their organization's (an unknown one alike).
    expect(missing.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    const after = await scrape(server.url);

    const moved = (name: string, labels: Record<string, string> = {}) => after.sum(name, labels) - before.sum(name, labels);
    const sonnet = { provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', billing: 'PROVIDER_ACCOUNT' };
    expect(moved('byom_provider_attempts_total', { ...sonnet, outcome: 'SUCCEEDED', reason: 'none' })).toBe(1);
    expect(moved('byom_provider_attempts_total', { ...sonnet, outcome: 'FAILED', reason: 'PROVIDER_UNAVAILABLE' })).toBe(1);
    expect(moved('byom_provider_attempts_total', { ...sonnet, outcome: 'FAILED', reason: 'INVALID_API_KEY' })).toBe(1);
    expect(moved('byom_provider_attempts_total', { provider: 'OPENAI', model: 'gpt-5.4', outcome: 'SUCCEEDED', reason: 'none' })).toBe(1);
    expect(attempts(after) - attempts(before)).toBe(4);
    // The 503 went on to the fallback; the 401 ends the run at once (no failover).
    expect(moved('byom_run_failovers_total', { reason: 'PROVIDER_UNAVAILABLE' })).toBe(1);
    expect(moved('byom_run_failovers_total')).toBe(1);
    expect(moved('byom_cooldowns_total', { provider: 'ANTHROPIC', model: 'claude-sonnet-4-6', account: 'connection', reason: 'PROVIDER_UNAVAILABLE' })).toBe(1);
    expect(moved('byom_cooldowns_total')).toBe(1);
    expect(moved('byom_connection_status_changes_total', { provider: 'ANTHROPIC', status: 'INVALID' })).toBe(1);
    expect(moved('byom_connection_status_changes_total')).toBe(1);
    expect(moved('byom_graphql_requests_total', { operation_name: 'RunIt', operation_type: 'mutation' })).toBe(3);
    expect(moved('byom_graphql_request_duration_seconds_count', { operation_name: 'RunIt', operation_type: 'mutation' })).toBe(3);
    expect(moved('byom_graphql_requests_total', { operation_name: 'Missing', operation_type: 'query' })).toBe(1);
    expect(moved('byom_errors_total', { code: 'FORBIDDEN' })).toBe(1);
    expect(moved('byom_errors_total')).toBe(1);
  });

  it('counts key checks by outcome', async () => {
    const organization = await makeOrganization(server.dataSource, { name: 'Metrics keys' });
    await makeMembership(server.dataSource, organization, 'metrics-admin', OrgRole.ADMIN);
    ids.push(organization.id, 'metrics-admin');
    const connect = (apiKey: string) =>
      server.graphql(`mutation($input: ConnectProviderInput!) { connectProvider(input: $input) { status } }`, {
        as: 'metrics-admin',
        headers: viaRouter,
        variables: { input: { organizationId: organization.id, provider: 'OPENAI', apiKey } },
      });
    const before = await scrape(server.url);
    const accepted = makeTestKey('OPENAI');
    standIn.acceptKeys(accepted);

    expect((await connect(accepted)).errors).toBeUndefined();
    expect((await connect(makeTestKey('OPENAI'))).errors?.[0].extensions.code).toBe('INVALID_API_KEY');

    const after = await scrape(server.url);
    const moved = (labels: Record<string, string>) => after.sum('byom_key_checks_total', labels) - before.sum('byom_key_checks_total', labels);
    expect(moved({ provider: 'OPENAI', outcome: 'ACCEPTED' })).toBe(1);
    expect(moved({ provider: 'OPENAI', outcome: 'REJECTED' })).toBe(1);
    expect(moved({})).toBe(2);
  });

  it('holds no organization, user, agent, run or request id in any label', async () => {
    const { member, agentId } = await tenant();
    await run(member, agentId);
    const metrics = await scrape(server.url);

    const values = metrics.samples.flatMap((sample) => Object.values(sample.labels));
    expect(ids.length).toBeGreaterThan(10);
    expect(values.filter((value) => UUID.test(value) || ids.some((id) => value.includes(id)))).toEqual([]);
  });

  it('shows the pool busy and requests waiting for it under load, and idle again after', async () => {
    const poolSize = Number((server.dataSource.options as { extra: { max: number } }).extra.max);
    const idle = await scrape(server.url);
    expect(idle.value('byom_db_pool_waiting_connections')).toBe(0);

    // Every connection taken, then requests that need one.
    const held: QueryRunner[] = [];
    for (let i = 0; i < poolSize; i += 1) {
      const runner = server.dataSource.createQueryRunner();
      await runner.connect();
      held.push(runner);
    }
    const queued = Array.from({ length: 3 }, () => server.graphql('query Viewer { viewer { userId organizations { id } } }', { as: 'metrics-loaded', headers: viaRouter }));
    let busy: Exposition | undefined;
    try {
      for (let tries = 0; tries < 50; tries += 1) {
        busy = await scrape(server.url);
        if (busy.value('byom_db_pool_waiting_connections') >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await Promise.all(held.map((runner) => runner.release()));
    }
    const answers = await Promise.all(queued);

    expect(busy?.value('byom_db_pool_waiting_connections')).toBeGreaterThanOrEqual(3);
    expect(busy?.value('byom_db_pool_total_connections')).toBe(poolSize);
    expect(busy?.value('byom_db_pool_idle_connections')).toBe(0);
    expect(answers.map((answer) => [answer.status, answer.errors])).toEqual(Array(3).fill([200, undefined]));
    const after = await scrape(server.url);
    expect(after.value('byom_db_pool_waiting_connections')).toBe(0);
    expect(after.value('byom_db_pool_idle_connections')).toBe(after.value('byom_db_pool_total_connections'));
  });
});
