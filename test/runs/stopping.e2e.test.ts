import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Provider } from '../../src/catalog/catalog';
import { makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole } from '../support/factories';
import { makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Stopping and cancelling (DESIGN.md sections 7 and 10), against the provider stand-in over real
 * HTTP on a real database: a run's one deadline for all its attempts; a caller that goes away
 * during runAgent; readiness, the drain and the grace when the app stops. Whatever happens, a
 * call the provider may bill is on the run's timeline.
 */

const RUN_FIELDS = `id status error { provider type message }
  output { text }
  attempts { model { id } outcome reason httpStatus latencyMs error { type message } }`;
const RUN_AGENT = `mutation($input: RunAgentInput!) { runAgent(input: $input) { ${RUN_FIELDS} } }`;
const RUN = `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`;
const USAGE = `query($id: ID!, $from: DateTime!, $to: DateTime!) {
  organization(id: $id) { usage(from: $from, to: $to) { provider model { id } runs inputTokens outputTokens } }
}`;

interface Attempt {
  model: { id: string };
  outcome: string;
  reason: string | null;
  httpStatus: number | null;
  latencyMs: number;
}
const brief = (attempts: Attempt[]) => attempts.map((attempt) => [attempt.model.id, attempt.outcome, attempt.reason, attempt.httpStatus]);

/** Waits until `check` answers something other than undefined, at most `timeoutMs`. */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

/** Whether a fresh TCP connection to the server is accepted. */
function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('stopping and cancelling runs', () => {
  let standIn: ProviderStandIn;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    standIn = await startProviderStandIn();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    standIn.reset();
  });
  afterAll(async () => {
    await standIn?.close();
  });

  async function serverWith(env: Record<string, string> = {}): Promise<TestServer> {
    const server = await startTestServer({ ...standInEnv(standIn), PROVIDER_REQUEST_TIMEOUT_MS: '20000', ...env });
    servers.push(server);
    return server;
  }

  let counter = 0;
  /** An organization with its own Anthropic primary and OpenAI fallback, a member, an admin and an agent on the primary. */
  async function crossProvider(server: TestServer) {
    counter += 1;
    const organization = await makeOrganization(server.dataSource, { name: `Stopping ${counter}` });
    const member = `stop-runner-${counter}`;
    const admin = `stop-admin-${counter}`;
    await makeMembership(server.dataSource, organization, member, OrgRole.MEMBER);
    await makeMembership(server.dataSource, organization, admin, OrgRole.ADMIN);
    for (const provider of [Provider.ANTHROPIC, Provider.OPENAI]) {
      const apiKey = makeTestKey(provider);
      standIn.acceptKeys(apiKey);
      await makeConnection(server.dataSource, organization, provider, apiKey);
    }
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' });
    const created = await server.graphql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
      as: member,
      variables: { input: { organizationId: organization.id, name: 'Runner' } },
    });
    expect(created.errors).toBeUndefined();
    return { organization, member, admin, agentId: created.data?.createAgent.id as string };
  }

  const runInput = (agentId: string) => ({ input: { agentId, messages: [{ role: 'USER', content: 'Hello there' }] } });
  const chatCalls = () => standIn.requests.filter((request) => request.path !== '/v1/models');

  /** The one run of an agent, read back through run(id) once it is stored (the caller that went away never got its id). */
  async function storedRunOf(server: TestServer, agentId: string, as: string) {
    const [{ id }] = await until('the run is stored', async () => {
      const rows: { id: string }[] = await server.dataSource.query('SELECT id FROM run WHERE agent_id = $1', [agentId]);
      return rows.length > 0 ? rows : undefined;
    });
    const read = await server.graphql(RUN, { as, variables: { id } });
    expect(read.errors).toBeUndefined();
    return read.data?.run;
  }

  describe('the run deadline (RUN_DEADLINE_MS)', () => {
    it('gives the fallback only what is left of the deadline, not a whole request timeout', async () => {
      // 1,000 ms are left for the fallback: margin enough for a busy machine's late timers.
      const server = await serverWith({ PROVIDER_REQUEST_TIMEOUT_MS: '2000', RUN_DEADLINE_MS: '3000' });
      const { member, agentId } = await crossProvider(server);
      standIn.script('ANTHROPIC', { delayMs: 10_000 });
      standIn.script('OPENAI', { delayMs: 10_000 });

      const started = performance.now();
      const result = await server.graphql(RUN_AGENT, { as: member, variables: runInput(agentId) });
      const elapsed = performance.now() - started;

      expect(result.errors).toBeUndefined();
      const run = result.data?.runAgent;
      expect(brief(run.attempts)).toEqual([
        ['claude-sonnet-4-6', 'FAILED', 'TIMEOUT', null],
        ['gpt-5.4', 'FAILED', 'TIMEOUT', null],
      ]);
      // 2,000 ms for the primary, the 1,000 ms left for the fallback: not 2,000 + 2,000.
      expect(run.attempts[0].latencyMs).toBeGreaterThanOrEqual(1_900);
      expect(run.attempts[1].latencyMs).toBeLessThan(1_800);
      expect(elapsed).toBeLessThan(3_800);
      expect(chatCalls().map((call) => call.aborted)).toEqual([true, true]);
    });

    it('sends nothing to the fallback when nothing is left, and says so on the timeline', async () => {
      const server = await serverWith({ PROVIDER_REQUEST_TIMEOUT_MS: '5000', RUN_DEADLINE_MS: '800' });
      const { member, agentId } = await crossProvider(server);
      standIn.script('ANTHROPIC', { delayMs: 10_000 });

      const result = await server.graphql(RUN_AGENT, { as: member, variables: runInput(agentId) });

      const run = result.data?.runAgent;
      expect(run.status).toBe('FAILED');
      expect(brief(run.attempts)).toEqual([
        ['claude-sonnet-4-6', 'FAILED', 'TIMEOUT', null],
        ['gpt-5.4', 'SKIPPED', 'DEADLINE_EXCEEDED', null],
      ]);
      expect(run.attempts[0].latencyMs).toBeLessThan(2_000);
      expect(run.error).toMatchObject({ provider: 'OPENAI', type: 'deadline_exceeded', message: expect.stringContaining('800 ms') });
      expect(chatCalls()).toHaveLength(1);
    });
  });

  describe('a caller that goes away during runAgent', () => {
    it('aborts the provider call, tries no fallback, and stores the run FAILED with the attempt CANCELLED, counted in usage', async () => {
      const server = await serverWith();
      const { organization, member, admin, agentId } = await crossProvider(server);
      standIn.script('ANTHROPIC', { delayMs: 15_000 });
      const from = new Date().toISOString();

      const started = performance.now();
      const client = new AbortController();
      const answer = fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await server.token(member)}` },
        body: JSON.stringify({ query: RUN_AGENT, variables: runInput(agentId) }),
        signal: client.signal,
      });
      await until('the provider is called', () => (chatCalls().length > 0 ? true : undefined));
      client.abort();
      await expect(answer).rejects.toThrow();

      await until('the stand-in sees the call aborted', () => (chatCalls()[0].aborted ? true : undefined));
      const run = await storedRunOf(server, agentId, member);
      expect(performance.now() - started).toBeLessThan(5_000);

      expect(run.status).toBe('FAILED');
      expect(brief(run.attempts)).toEqual([['claude-sonnet-4-6', 'FAILED', 'CANCELLED', null]]);
      expect(run.error).toEqual({ provider: 'ANTHROPIC', type: 'cancelled', message: 'The call to Anthropic was aborted: the caller went away' });
      expect(chatCalls()).toHaveLength(1); // no fallback for a caller that is gone

      // The aborted call may be billed: it counts as a run that reached the model, its tokens unknown.
      const usage = await server.graphql(USAGE, { as: admin, variables: { id: organization.id, from, to: new Date(Date.now() + 1_000).toISOString() } });
      expect(usage.data?.organization.usage).toEqual([{ provider: 'ANTHROPIC', model: { id: 'claude-sonnet-4-6' }, runs: 1, inputTokens: 0, outputTokens: 0 }]);
    });

    it('keeps the failed primary on the timeline when the caller goes away during the fallback (socket destroyed)', async () => {
      const server = await serverWith();
      const { member, agentId } = await crossProvider(server);
      standIn.script('ANTHROPIC', { status: 529 });
      standIn.script('OPENAI', { delayMs: 15_000 });
      const body = JSON.stringify({ query: RUN_AGENT, variables: runInput(agentId) });

      const request = http.request(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${await server.token(member)}` },
      });
      request.on('error', () => undefined);
      request.end(body);
      await until('the fallback is called', () => (chatCalls().length === 2 ? true : undefined));
      request.destroy();

      const run = await storedRunOf(server, agentId, member);
      expect(brief(run.attempts)).toEqual([
        ['claude-sonnet-4-6', 'FAILED', 'OVERLOADED', 529],
        ['gpt-5.4', 'FAILED', 'CANCELLED', null],
      ]);
      expect(run.status).toBe('FAILED');
      await until('the stand-in sees the fallback aborted', () => (chatCalls()[1].aborted ? true : undefined));
    });
  });

  describe('stopping the app', () => {
    it('answers /readyz 503 at once, serves during the drain, closes the listener, and lets a slow run finish and be stored', async () => {
      const server = await serverWith({ SHUTDOWN_DRAIN_MS: '600' });
      const base = server.url.replace(/\/graphql$/, '');
      const { member, agentId } = await crossProvider(server);
      standIn.script('ANTHROPIC', { delayMs: 2_000 });

      const answer = server.graphql(RUN_AGENT, { as: member, variables: runInput(agentId) });
      await until('the provider is called', () => (chatCalls().length > 0 ? true : undefined));
      const marked = performance.now();
      server.app.markStopping();
      const ready = await fetch(`${base}/readyz`);
      const readyMs = performance.now() - marked;
      const stopped = server.app.stop();
      let stoppedAt = 0;
      void stopped.then(() => (stoppedAt = performance.now()));

      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'stopping' });
      expect(readyMs).toBeLessThan(500);
      // During the drain the listener still takes new connections, and requests are served.
      expect(await accepts(server.url)).toBe(true);
      expect((await server.graphql('{ viewer { userId } }', { as: member })).data).toEqual({ viewer: { userId: member } });
      // After it, new connections are refused while the run goes on.
      await until('the listener closes', async () => ((await accepts(server.url)) ? undefined : true), 3_000);
      expect(stoppedAt).toBe(0);

      const result = await answer;
      const answeredAt = performance.now();
      await stopped;

      expect(result.errors).toBeUndefined();
      expect(result.data?.runAgent).toMatchObject({ status: 'SUCCEEDED', output: { text: 'Echo: Hello there' } });
      expect(brief(result.data?.runAgent.attempts)).toEqual([['claude-sonnet-4-6', 'SUCCEEDED', null, 200]]);
      expect(stoppedAt).toBeGreaterThanOrEqual(answeredAt - 50);
      expect(chatCalls().map((call) => call.aborted)).toEqual([false]);
      const rows = await server.dataSource.query('SELECT r.status, a.outcome FROM run r JOIN run_attempt a ON a.run_id = r.id WHERE r.agent_id = $1', [agentId]);
      expect(rows).toEqual([{ status: 'SUCCEEDED', outcome: 'SUCCEEDED' }]);
    });

    it('interrupts a run that would outlive the grace: the call is aborted, the run stored FAILED with the attempt INTERRUPTED, and answered', async () => {
      const server = await serverWith({ SHUTDOWN_DRAIN_MS: '0', SHUTDOWN_GRACE_MS: '300' });
      const { member, agentId } = await crossProvider(server);
      standIn.script('ANTHROPIC', { delayMs: 30_000 });

      const answer = server.graphql(RUN_AGENT, { as: member, variables: runInput(agentId) });
      await until('the provider is called', () => (chatCalls().length > 0 ? true : undefined));
      const started = performance.now();
      await server.app.stop();
      const stopMs = performance.now() - started;
      const result = await answer;

      expect(stopMs).toBeGreaterThanOrEqual(290);
      expect(stopMs).toBeLessThan(3_000);
      expect(result.errors).toBeUndefined();
      const run = result.data?.runAgent;
      expect(run.status).toBe('FAILED');
      expect(brief(run.attempts)).toEqual([['claude-sonnet-4-6', 'FAILED', 'INTERRUPTED', null]]);
      expect(run.error).toEqual({ provider: 'ANTHROPIC', type: 'interrupted', message: 'The call to Anthropic was aborted: the service is stopping' });
      expect(chatCalls()).toHaveLength(1);
      await until('the stand-in sees the call aborted', () => (chatCalls()[0].aborted ? true : undefined));
      const rows = await server.dataSource.query(
        'SELECT r.status, a.outcome, a.reason FROM run r JOIN run_attempt a ON a.run_id = r.id WHERE r.agent_id = $1',
        [agentId],
      );
      expect(rows).toEqual([{ status: 'FAILED', outcome: 'FAILED', reason: 'INTERRUPTED' }]);
      expect(server.logs.some((line) => line.includes('interrupted, recorded FAILED') && line.includes('"runs":1'))).toBe(true);
    });
  });
});
