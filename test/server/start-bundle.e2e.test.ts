import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { untilReady } from '../support/built-server';
import { seedEmbeddedDataDir } from '../support/database';

/**
 * `npm start` (scripts/start.mjs) runs the service from its bundle (dist/service.js) with a code
 * cache, and a changed source is never served stale: the start after the change runs the
 * changed modules of dist/src, then bundles them for the next start. On a copy of the project
 * (its node_modules linked), so that changing a source changes nothing of this checkout.
 */
const ROOT = path.join(__dirname, '../..');

function environment(dataDir: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, TEST_DATABASE_URL: _test, AUTH_JWT_SECRET: _secret, BYOM_ENCRYPTION_KEYS: _keys, NODE_OPTIONS: _options, ...rest } = process.env;
  const withoutTracing = Object.fromEntries(Object.entries(rest).filter(([name]) => !name.startsWith('OTEL_')));
  return { ...withoutTracing, NODE_ENV: 'development', LOG_LEVEL: 'info', LOG_FORMAT: 'json', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' };
}

const mtime = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not in ${timeoutMs / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm start runs the bundle of the service', () => {
  let project: string;
  let dataDir: string;
  let child: ChildProcessWithoutNullStreams | undefined;

  beforeAll(() => {
    project = mkdtempSync(path.join(os.tmpdir(), 'byom-bundle-'));
    for (const entry of ['src', 'migrations', 'scripts', 'ormconfig.ts', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      cpSync(path.join(ROOT, entry), path.join(project, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'byom-bundle-data-'));
    seedEmbeddedDataDir(dataDir);
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    child = undefined;
  });
  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<() => string> {
    const started = spawn(process.execPath, [path.join(project, 'scripts/start.mjs')], { cwd: project, env: environment(dataDir) });
    child = started;
    let output = '';
    started.stdout.on('data', (chunk) => (output += chunk));
    started.stderr.on('data', (chunk) => (output += chunk));
    await untilReady(started, () => output);
    return () => output;
  }

  async function stop(): Promise<void> {
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await once(child, 'exit');
    child = undefined;
  }

  it('with its code cache, and a changed source at once, bundled for the next start', async () => {
    execFileSync(process.execPath, [path.join(project, 'scripts/build.mjs'), '--bundle'], { cwd: project });
    const bundle = path.join(project, 'dist/service.js');
    const cache = path.join(project, 'dist/service.cache');
    const bundled = mtime(bundle);
    expect(bundled).toBeGreaterThan(0);

    // The bundle runs, and writes its cache once ready (dist/src never does).
    await start();
    await until(() => mtime(cache) > bundled, 'the code cache written');
    const cached = readFileSync(cache);
    await stop();

    // Started again on that cache, which it keeps.
    let output = await start();
    expect(output()).toContain('byom-subgraph ready at');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(readFileSync(cache).equals(cached)).toBe(true);
    await stop();

    // A source changes: the next start serves the change without waiting for a bundle ...
    const main = path.join(project, 'src/main.ts');
    writeFileSync(main, readFileSync(main, 'utf8').replace('`byom-subgraph ready at ${url}`', '`byom-subgraph (changed) ready at ${url}`'));
    output = await start();
    expect(output()).toContain('byom-subgraph (changed) ready at');
    // ... and bundles it once ready.
    await until(() => mtime(bundle) > bundled, 'the bundle made anew');
    await stop();
    expect(readFileSync(bundle, 'utf8')).toContain('byom-subgraph (changed) ready at');

    // The start after runs the new bundle, and caches it anew.
    const rebundled = mtime(bundle);
    output = await start();
    expect(output()).toContain('byom-subgraph (changed) ready at');
    await until(() => mtime(cache) > rebundled, 'the code cache of the new bundle written');
  }, 180_000);
});
