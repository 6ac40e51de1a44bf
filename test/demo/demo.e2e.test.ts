import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * `npm run demo` as a newcomer runs it: it builds and starts the real service on a scratch data
 * directory, tells the story through GraphQL over HTTP with the provider stand-in, checks every
 * answer, and cleans up after itself.
 */

const ROOT = path.resolve(__dirname, '../..');
const DEMO_TIMEOUT_MS = 150_000;

interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `npm run -s demo` in a process group of its own, stopped (SIGTERM, the demo cleans up) if it overruns. */
function runDemo(): Promise<Finished> {
  const env = { ...process.env };
  // Jest's own settings are not the demo's.
  delete env.NODE_OPTIONS;
  delete env.NODE_ENV;
  const child = spawn('npm', ['run', '-s', 'demo'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGTERM');
  }, DEMO_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, timedOut });
    });
  });
}

describe('npm run demo', () => {
  let run: Finished;

  beforeAll(async () => {
    run = await runDemo();
  }, DEMO_TIMEOUT_MS + 30_000);

  it('tells the whole story and exits 0', () => {
    if (run.status !== 0) throw new Error(`the demo ended with ${run.signal ?? run.status}${run.timedOut ? ' (timed out)' : ''}:\n${run.stderr}\n${run.stdout.slice(-3_000)}`);
    expect(run.stdout).toMatch(/The story holds: \d+ steps/);
  });

  it("shows Acme EU's models INHERITED from Acme", () => {
    expect(run.stdout).toContain('"source": "INHERITED"');
    expect(run.stdout).toContain('"inheritedFrom": { "name": "Acme" }');
  });

  it('shows the agent pinned to the full id for the alias sonnet', () => {
    expect(run.stdout).toMatch(/"createAgent": \{[^]*?"model": \{ "id": "claude-sonnet-4-6" \}/);
  });

  it("shows the failover on the run's timeline: Anthropic's 529, then gpt-5.4", () => {
    const timeline = run.stdout.slice(run.stdout.indexOf('query RunTimeline'));
    expect(timeline).toMatch(/"model": \{ "id": "claude-sonnet-4-6" \},\s*"provider": "ANTHROPIC",[^}]*"outcome": "FAILED",\s*"reason": "OVERLOADED",\s*"httpStatus": 529/);
    expect(timeline).toMatch(/"model": \{ "id": "gpt-5.4" \},\s*"provider": "OPENAI",[^}]*"outcome": "SUCCEEDED"/);
    expect(timeline).toContain('"servedBy": { "model": { "id": "gpt-5.4" }, "billing": "PROVIDER_ACCOUNT" }');
  });

  it('shows exclusive mode hiding the platform models', () => {
    const [before, after] = run.stdout.split('query AvailableModels').slice(1);
    expect(before).toContain('"billing": "PLATFORM_CREDITS"');
    expect(after.slice(0, after.indexOf('── '))).not.toContain('PLATFORM_CREDITS');
  });

  it('shows usage on both providers', () => {
    const usage = run.stdout.slice(run.stdout.indexOf('query Usage'));
    expect(usage).toContain('"provider": "ANTHROPIC"');
    expect(usage).toContain('"provider": "OPENAI"');
  });

  it('leaves no scratch directory behind', () => {
    const scratch = /on the scratch directory (\S+);/.exec(run.stdout)?.[1];
    expect(scratch).toBeDefined();
    expect(existsSync(scratch!)).toBe(false);
  });
});
