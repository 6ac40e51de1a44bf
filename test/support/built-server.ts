import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { TEST_ENCRYPTION_KEYS, TEST_JWT_SECRET } from './test-server';

/**
 * `node dist/src/main.js` as production runs it, on a database given by URL: for what only a
 * process of its own shows (what start-up loads, tracing hooks, exported spans).
 */
const ROOT = path.join(__dirname, '../..');

export interface BuiltServer {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** Its JSON log lines. */
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

let built = false;

/**
 * Waits for a started service's "ready" log line and answers its URL. A service that exits first,
 * or is not ready in time, fails the wait; the late one is killed, so that no test leaves a
 * process behind that becomes ready after its test gave up on it.
 */
export async function untilReady(child: ChildProcessWithoutNullStreams, output: () => string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const url = /"url":"(http:\/\/[^"]+)"/.exec(output())?.[1];
    if (url) return url;
    if (child.exitCode !== null) throw new Error(`the service exited during start:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready in ${timeoutMs / 1000} s:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Compiles src/ into dist/ (once per test file; only what changed). */
export function build(): void {
  if (built) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT });
  built = true;
}

export async function startBuiltServer(
  databaseUrl: string,
  env: Record<string, string> = {},
  options: { nodeArgs?: string[]; poolSize?: number } = {},
): Promise<BuiltServer> {
  build();
  // Nothing of the test run's own environment that would configure the service.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(OTEL_|DATABASE_|TEST_DATABASE_|NODE_OPTIONS$|AUTH_|BYOM_|PLATFORM_|ANTHROPIC_|OPENAI_|ROUTER_SECRET$)/.test(name)),
  );
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: {
      ...inherited,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      BYOM_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: String(options.poolSize ?? 5),
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = await untilReady(child, () => output);
  return {
    child,
    url,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
