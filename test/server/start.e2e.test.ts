import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { signDevToken } from '../../src/auth/dev-token';
import { LOCK_FILE } from '../../src/database/data-dir-lock';
import { untilReady } from '../support/built-server';
import { createTestDatabase, seedEmbeddedDataDir, serverUrl } from '../support/database';
import { scratchDirectories } from '../support/scratch';

/**
 * `node dist/src/main.js` as `npm start` runs it, on the embedded database in a data directory
 * of the test's own: what a developer meets when two processes, a killed one, an idle one or a
 * busy port come into play.
 */
const ROOT = path.join(__dirname, '../..');

interface Service {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
}

function environment(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, TEST_DATABASE_URL: _test, AUTH_JWT_SECRET: _secret, BYOM_ENCRYPTION_KEYS: _keys, NODE_OPTIONS: _options, ...rest } = process.env;
  return { ...rest, NODE_ENV: 'development', LOG_LEVEL: 'info', LOG_FORMAT: 'json', DATA_DIR: dataDir, PORT: '0', ...extra };
}

function run(script: string, dataDir: string, extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', script)], { cwd: ROOT, env: environment(dataDir, extra) });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => {
    output += chunk;
    errors += chunk;
  });
  return { child, output: () => output, errors: () => errors };
}

async function startService(dataDir: string, extra: Record<string, string> = {}): Promise<Service> {
  seedEmbeddedDataDir(dataDir);
  const { child, output } = run('src/main.js', dataDir, extra);
  return { child, url: await untilReady(child, output), output };
}

async function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code;
}

async function stop(service: Service): Promise<void> {
  if (service.child.exitCode !== null) return;
  service.child.kill('SIGTERM');
  await exitOf(service.child);
}

async function graphql(service: Service, query: string, token: string) {
  const response = await fetch(service.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: any; errors?: { extensions: { code: string } }[] };
}

const devToken = (dataDir: string, sub: string, operator = false) =>
  signDevToken(readFileSync(path.join(dataDir, 'dev-jwt-secret'), 'utf8').trim(), { sub, operator });

describe('npm start on the embedded database', () => {
  const running: Service[] = [];

  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
  });
  afterAll(async () => {
    await Promise.all(running.splice(0).map(stop));
  });
  // Each test has a data directory of its own, so that they run at once: most of their time is
  // waiting for services to start, stop or idle. Removed after the services above have stopped.
  const newDataDir = scratchDirectories('byom-start');

  it.concurrent('refuses a second service, migrations and keys:reencrypt on a data directory in use, naming it and its holder, and touches nothing', async () => {
    const dataDir = newDataDir();
    const first = await startService(dataDir);
    running.push(first);
    const lockBefore = readFileSync(path.join(dataDir, LOCK_FILE), 'utf8');
    const filesBefore = readdirSync(dataDir).sort();

    for (const [script, extra] of [
      ['src/main.js', {}],
      ['src/connections/reencrypt-keys.js', { BYOM_ENCRYPTION_KEYS: `k2:${Buffer.alloc(32, 1).toString('base64')}` }],
    ] as const) {
      const second = run(script, dataDir, extra);
      expect(await exitOf(second.child)).toBe(1);
      // One line, and nothing before it: no log of a database opened, no stack.
      expect(second.output().trim().split('\n')).toEqual([
        expect.stringContaining(`the data directory ${dataDir} is in use by process ${first.child.pid} (the service`),
      ]);
    }

    const migrations = spawn('npm', ['run', '-s', 'migration:run'], { cwd: ROOT, env: environment(dataDir) });
    let migrationsOutput = '';
    migrations.stderr.on('data', (chunk) => (migrationsOutput += chunk));
    expect(await exitOf(migrations as ChildProcessWithoutNullStreams)).toBe(1);
    expect(migrationsOutput).toContain(`the data directory ${dataDir} is in use by process ${first.child.pid}`);

    expect(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8')).toBe(lockBefore);
    expect(readdirSync(dataDir).sort()).toEqual(filesBefore);
    const operator = await devToken(dataDir, 'ops', true);
    expect(await graphql(first, '{ viewer { userId } }', operator)).toEqual({ data: { viewer: { userId: 'ops' } } });
  }, 90_000);

  it.concurrent('takes over the lock of a service killed with SIGKILL, with every acknowledged write kept', async () => {
    const dataDir = newDataDir();
    const first = await startService(dataDir);
    const operator = await devToken(dataDir, 'ops', true);
    const created = await graphql(first, 'mutation { createOrganization(input: { name: "Kept Inc" }) { id } }', operator);
    const id = created.data?.createOrganization.id;
    expect(id).toEqual(expect.any(String));
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(true);

    const second = await startService(dataDir);
    running.push(second);
    expect(JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8')).pid).toBe(second.child.pid);
    expect(await graphql(second, `{ organization(id: "${id}") { name } }`, operator)).toEqual({ data: { organization: { name: 'Kept Inc' } } });
  }, 90_000);

  it.concurrent('names a busy port in one line before it opens the database', async () => {
    const parent = newDataDir();
    const dataDir = path.join(parent, 'data');
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const service = run('src/main.js', dataDir, { PORT: String(port), HOST: '127.0.0.1' });
      expect(await exitOf(service.child)).toBe(1);
      expect(service.errors()).toBe(`byom-subgraph cannot start: port ${port} is in use; set PORT\n`);
      expect(service.output()).toBe(service.errors());
      // Only the lock was taken (and given back): no database, no development secrets, and not
      // the directory that taking it made.
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 30_000);

  it.concurrent('answers every resolver after idling past the pool’s idle timeout, and /readyz agrees', async () => {
    const dataDir = newDataDir();
    const service = await startService(dataDir, { DATABASE_IDLE_TIMEOUT_MS: '200' });
    running.push(service);
    const operator = await devToken(dataDir, 'ops', true);
    const query = '{ viewer { userId organizations { id } } }';
    expect(await graphql(service, query, operator)).toEqual({ data: { viewer: { userId: 'ops', organizations: [] } } });
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await graphql(service, query, operator)).toEqual({ data: { viewer: { userId: 'ops', organizations: [] } } });
    }
    const ready = await fetch(service.url.replace(/\/graphql$/, '/readyz'));
    expect(ready.status).toBe(200);
  }, 60_000);

  // On a PostgreSQL server: an embedded database of the test's own is answered by this busy test
  // process, whose answers alone can take longer than the 200 ms bound.
  (serverUrl() ? it.concurrent : it.skip)('opens a database given by URL although loading its modules outlasts the connect timeout (a busy machine)', async () => {
    const dataDir = newDataDir();
    // A preload makes loading the GraphQL modules take 1.5 s, past a 200 ms connect timeout: a
    // connection begun before them would time out while they load.
    const preload = path.join(dataDir, 'slow-modules.js');
    writeFileSync(
      preload,
      `const Module = require('module');
       const load = Module._load;
       Module._load = function (request, parent) {
         if (request === './server' && parent && parent.filename.endsWith('main.js')) { const until = Date.now() + 1500; while (Date.now() < until); }
         return load.apply(this, arguments);
       };`,
    );
    const database = await createTestDatabase();
    try {
      const service = await startService(dataDir, { DATABASE_URL: database.url, DATABASE_CONNECT_TIMEOUT_MS: '200', NODE_OPTIONS: `--require ${preload}` });
      running.push(service);
      const answer = await graphql(service, '{ viewer { userId } }', await devToken(dataDir, 'slow-start'));
      expect(answer).toEqual({ data: { viewer: { userId: 'slow-start' } } });
      await stop(service);
    } finally {
      await database.drop();
    }
  });
});
