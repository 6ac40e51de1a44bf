import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signDevToken } from '../../src/auth/dev-token';
import { Provider } from '../../src/catalog/catalog';
import { serverUrl } from '../support/database';
import { makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole } from '../support/factories';
import { KEY_PATTERN, makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer, TEST_ENCRYPTION_KEYS, TEST_JWT_SECRET, type TestServer } from '../support/test-server';

/**
 * Two service processes on one PostgreSQL database (DESIGN.md section 7): a cooldown written after
 * a 429 seen through the first is what the second reads on its next run. The first is this test's
 * server; the second is `node dist/src/main.js`, as `npm start` runs it. PostgreSQL only: the
 * embedded database belongs to one process.
 */
const ROOT = path.join(__dirname, '../..');
const RUN_AGENT = `mutation($input: RunAgentInput!) { runAgent(input: $input) { status attempts { model { id } outcome reason } } }`;

(serverUrl() ? describe : describe.skip)('cooldowns across service instances', () => {
  let standIn: ProviderStandIn;
  let first: TestServer;
  let second: { child: ChildProcessWithoutNullStreams; url: string; output: () => string } | undefined;
  let dataDir: string;

  beforeAll(async () => {
    standIn = await startProviderStandIn();
    first = await startTestServer(standInEnv(standIn));
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'ignore' });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'byom-second-'));
    const { TEST_DATABASE_URL: _test, NODE_OPTIONS: _options, ...rest } = process.env;
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/main.js')], {
      cwd: ROOT,
      env: {
        ...rest,
        NODE_ENV: 'test',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        PORT: '0',
        DATA_DIR: dataDir,
        DATABASE_URL: first.databaseUrl,
        DATABASE_POOL_SIZE: '2',
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        BYOM_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
        ...standInEnv(standIn),
      },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (ready) {
        second = { child, url: ready[1], output: () => output };
        break;
      }
      if (child.exitCode !== null) throw new Error(`the second instance exited during start:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the second instance was not ready in 60 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(async () => {
    if (second && second.child.exitCode === null) {
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
    }
    await first?.stop();
    await standIn?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('makes the second instance pass over a primary that answered 429 through the first', async () => {
    const organization = await makeOrganization(first.dataSource, { name: 'Two instances' });
    await makeMembership(first.dataSource, organization, 'twin-runner', OrgRole.MEMBER);
    const keyOf = { ANTHROPIC: makeTestKey('ANTHROPIC'), OPENAI: makeTestKey('OPENAI') };
    standIn.acceptKeys(keyOf.ANTHROPIC, keyOf.OPENAI);
    await makeConnection(first.dataSource, organization, Provider.ANTHROPIC, keyOf.ANTHROPIC);
    await makeConnection(first.dataSource, organization, Provider.OPENAI, keyOf.OPENAI);
    await makeModelSettings(first.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' });
    const created = await first.graphql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, {
      as: 'twin-runner',
      variables: { input: { organizationId: organization.id, name: 'Twin' } },
    });
    const input = { agentId: created.data?.createAgent.id, messages: [{ role: 'USER', content: 'Hello there' }] };
    standIn.always({ model: 'claude-sonnet-4-6', apiKey: keyOf.ANTHROPIC }, { status: 429, retryAfter: '30' });

    const throughFirst = await first.graphql(RUN_AGENT, { as: 'twin-runner', variables: { input } });
    expect(throughFirst.data?.runAgent.attempts).toEqual([
      { model: { id: 'claude-sonnet-4-6' }, outcome: 'FAILED', reason: 'RATE_LIMITED' },
      { model: { id: 'gpt-5.4' }, outcome: 'SUCCEEDED', reason: null },
    ]);

    standIn.requests.length = 0;
    const token = await signDevToken(TEST_JWT_SECRET, { sub: 'twin-runner' });
    const response = await fetch(second?.url as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: RUN_AGENT, variables: { input } }),
    });
    const throughSecond = (await response.json()) as { data?: { runAgent: unknown }; errors?: unknown };
    expect(throughSecond.errors).toBeUndefined();
    expect(throughSecond.data?.runAgent).toEqual({
      status: 'SUCCEEDED',
      attempts: [
        { model: { id: 'claude-sonnet-4-6' }, outcome: 'SKIPPED', reason: 'COOLING_DOWN' },
        { model: { id: 'gpt-5.4' }, outcome: 'SUCCEEDED', reason: null },
      ],
    });
    expect(standIn.requests.filter((request) => request.path !== '/v1/models').map((request) => [request.model, request.apiKey])).toEqual([['gpt-5.4', keyOf.OPENAI]]);
    // The second instance's log names no key.
    expect(KEY_PATTERN.test(second?.output() ?? '')).toBe(false);
  });
});
