import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signDevToken } from '../../src/auth/dev-token';
import { makeTestKey, type ProviderStandIn, startProviderStandIn } from '../support/provider-stand-in';
import { untilReady } from '../support/built-server';
import { seedEmbeddedDataDir } from '../support/database';

/**
 * SIGTERM to `node dist/src/main.js` (DESIGN.md section 10, "Stopping") with a slow run in flight,
 * on the embedded database in a data directory of the test's own and the provider stand-in:
 * readiness turns 503 at once, requests are still served during the drain, the run finishes and
 * is answered, it is written before the database closes, and the process exits 0.
 */
const ROOT = path.join(__dirname, '../..');
const PLATFORM_ANTHROPIC_KEY = makeTestKey('ANTHROPIC');
const DRAIN_MS = 1_000;
const RUN_DELAY_MS = 2_000;

interface Service {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
}

async function startService(dataDir: string, standIn: ProviderStandIn): Promise<Service> {
  seedEmbeddedDataDir(dataDir);
  const { DATABASE_URL: _url, TEST_DATABASE_URL: _test, AUTH_JWT_SECRET: _secret, BYOM_ENCRYPTION_KEYS: _keys, NODE_OPTIONS: _options, ...rest } = process.env;
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: {
      ...rest,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATA_DIR: dataDir,
      PORT: '0',
      ANTHROPIC_BASE_URL: standIn.anthropicBaseUrl,
      OPENAI_BASE_URL: standIn.openaiBaseUrl,
      PLATFORM_ANTHROPIC_API_KEY: PLATFORM_ANTHROPIC_KEY,
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return { child, url: await untilReady(child, () => output), output: () => output };
}

/** Its exit status, once all it wrote is read: 'exit' can come before the last of its output. */
async function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const closed = child.exitCode !== null && child.stdout.closed && child.stderr.closed;
  if (!closed) await once(child, 'close');
  return child.exitCode;
}

async function graphql(service: Service, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(service.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

/** The messages of the service's log lines, in order. */
const messagesOf = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line).msg as string);

describe('SIGTERM with a run in flight', () => {
  let standIn: ProviderStandIn;
  let dataDir: string;
  const running: Service[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
    standIn = await startProviderStandIn({ acceptKeys: [PLATFORM_ANTHROPIC_KEY] });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'byom-shutdown-'));
  });
  afterAll(async () => {
    for (const service of running) {
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
      await exitOf(service.child);
    }
    await standIn?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('turns /readyz 503 at once, serves during the drain, finishes and stores the run, then exits 0', async () => {
    const service = await startService(dataDir, standIn);
    running.push(service);
    const base = service.url.replace(/\/graphql$/, '');
    const operator = await signDevToken(readFileSync(path.join(dataDir, 'dev-jwt-secret'), 'utf8').trim(), { sub: 'ops', operator: true });
    const organization = await graphql(service, operator, 'mutation { createOrganization(input: { name: "Stopping Inc" }) { id } }');
    const organizationId = organization.data?.createOrganization.id;
    const agent = await graphql(service, operator, 'mutation($id: ID!) { createAgent(input: { organizationId: $id, name: "Slow" }) { id } }', { id: organizationId });
    const agentId = agent.data?.createAgent.id;
    expect(agentId).toEqual(expect.any(String));
    standIn.script('ANTHROPIC', { delayMs: RUN_DELAY_MS });

    const answer = graphql(
      service,
      operator,
      'mutation($input: RunAgentInput!) { runAgent(input: $input) { id status output { text } attempts { outcome } } }',
      { input: { agentId, messages: [{ role: 'USER', content: 'Take your time' }] } },
    );
    while (!standIn.requests.some((request) => request.path === '/v1/messages')) await sleep(10);
    const signalled = performance.now();
    service.child.kill('SIGTERM');
    const exited = exitOf(service.child).then((code) => ({ code, ms: performance.now() - signalled }));

    // Readiness fails at once, while the run is in flight and the listener still open.
    let ready: Response | undefined;
    while (!ready || ready.status !== 503) {
      ready = await fetch(`${base}/readyz`);
      expect(performance.now() - signalled).toBeLessThan(1_000);
    }
    expect(await ready.json()).toEqual({ status: 'stopping' });
    expect(performance.now() - signalled).toBeLessThan(500);
    // The drain still serves what load balancers send meanwhile.
    expect((await graphql(service, operator, '{ viewer { userId } }')).data).toEqual({ viewer: { userId: 'ops' } });

    const result = await answer;
    const answeredMs = performance.now() - signalled;
    const { code, ms: exitMs } = await exited;

    expect(result.errors).toBeUndefined();
    expect(result.data?.runAgent).toMatchObject({ status: 'SUCCEEDED', output: { text: 'Echo: Take your time' }, attempts: [{ outcome: 'SUCCEEDED' }] });
    expect(code).toBe(0);
    expect(exitMs).toBeGreaterThanOrEqual(answeredMs - 100);
    expect(exitMs).toBeLessThan(RUN_DELAY_MS + 5_000);
    const messages = messagesOf(service.output());
    const order = ['agent run', 'HTTP server closed; every run recorded', 'stopped'].map((message) => messages.indexOf(message));
    expect(order.every((index, position) => index >= 0 && (position === 0 || index > order[position - 1]))).toBe(true);

    // The run was written before the database closed: a new process on the same directory reads it.
    const again = await startService(dataDir, standIn);
    running.push(again);
    const read = await graphql(again, operator, 'query($id: ID!) { run(id: $id) { status attempts { outcome } } }', { id: result.data?.runAgent.id });
    expect(read.data?.run).toEqual({ status: 'SUCCEEDED', attempts: [{ outcome: 'SUCCEEDED' }] });
    again.child.kill('SIGTERM');
    expect(await exitOf(again.child)).toBe(0);
  }, 120_000);
});
