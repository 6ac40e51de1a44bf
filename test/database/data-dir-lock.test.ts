import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataDirLockedError, LOCK_FILE, describeProcess, lockDataDir } from '../../src/database/data-dir-lock';

const LOCK_MODULE = path.join(__dirname, '../../src/database/data-dir-lock.ts');

/** Another Node process that can require the lock module's TypeScript (ts-node with swc). */
const NODE_ARGS = ['-r', 'ts-node/register'];
const NODE_OPTIONS = { cwd: path.join(__dirname, '../..'), env: { ...process.env, TS_NODE_SWC: 'true', NODE_OPTIONS: '' } };

function nodeWithLock(code: string, args: string[] = []) {
  return spawn(process.execPath, [...NODE_ARGS, '-e', code, LOCK_MODULE, ...args], { ...NODE_OPTIONS, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('the data directory lock', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'byom-lock-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('is held by one holder at a time, and a second is told who holds it', () => {
    const first = lockDataDir(directory, 'the service');
    try {
      let refusal: unknown;
      try {
        lockDataDir(directory, 'migrations');
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(DataDirLockedError);
      expect((refusal as Error).message).toContain(`the data directory ${directory} is in use by process ${process.pid} (the service`);
    } finally {
      first.release();
    }
    expect(existsSync(path.join(directory, LOCK_FILE))).toBe(false);
    lockDataDir(directory, 'migrations').release();
  });

  it("is refused to another process while this one holds it, and that process's refusal touches nothing", async () => {
    const lock = lockDataDir(directory, 'the service');
    try {
      const before = readFileSync(path.join(directory, LOCK_FILE), 'utf8');
      const child = nodeWithLock(
        `const { lockDataDir } = require(process.argv[1]);
         try { lockDataDir(process.argv[2], 'keys:reencrypt'); process.exit(0); }
         catch (error) { process.stderr.write(error.message); process.exit(3); }`,
        [directory],
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const [code] = await once(child, 'exit');
      expect(code).toBe(3);
      expect(stderr).toContain(`in use by process ${process.pid}`);
      expect(readFileSync(path.join(directory, LOCK_FILE), 'utf8')).toBe(before);
    } finally {
      lock.release();
    }
  });

  it('removes on release the directories it made, unless something was written in them, and never one that was there', () => {
    const made = path.join(directory, 'new', 'data');
    lockDataDir(made, 'the service').release();
    expect(readdirSync(directory)).toEqual([]);

    const used = lockDataDir(made, 'the service');
    writeFileSync(path.join(made, 'PG_VERSION'), '17');
    used.release();
    expect(readdirSync(made)).toEqual(['PG_VERSION']);

    lockDataDir(directory, 'the service').release();
    expect(existsSync(directory)).toBe(true);
  });

  it('is taken over from a holder that was killed with SIGKILL', async () => {
    const holder = nodeWithLock(
      `const { lockDataDir } = require(process.argv[1]);
       lockDataDir(process.argv[2], 'the service'); process.stdout.write('locked'); setInterval(() => {}, 1000);`,
      [directory],
    );
    await once(holder.stdout, 'data');
    const left = JSON.parse(readFileSync(path.join(directory, LOCK_FILE), 'utf8'));
    expect(left.pid).toBe(holder.pid);
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    // The lock file is still there: nothing of the killed process ran to remove it.
    expect(existsSync(path.join(directory, LOCK_FILE))).toBe(true);

    const lock = lockDataDir(directory, 'the service');
    expect(JSON.parse(readFileSync(path.join(directory, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('is taken over from a holder of an earlier boot (power loss), even when its pid is alive now', () => {
    const before = { ...describeProcess(process.pid, 'the service'), bootId: '00000000-0000-0000-0000-000000000000' };
    writeFileSync(path.join(directory, LOCK_FILE), JSON.stringify(before));
    const lock = lockDataDir(directory, 'the service');
    expect(JSON.parse(readFileSync(path.join(directory, LOCK_FILE), 'utf8')).bootId).not.toBe(before.bootId);
    lock.release();
  });

  it('is taken over from a pid that now belongs to another process (a different start time)', () => {
    const reused = { ...describeProcess(process.pid, 'the service'), startTicks: '1' };
    writeFileSync(path.join(directory, LOCK_FILE), JSON.stringify(reused));
    lockDataDir(directory, 'the service').release();
  });

  it('is taken over when the lock file is unreadable (a crash while it was written)', () => {
    writeFileSync(path.join(directory, LOCK_FILE), '');
    lockDataDir(directory, 'the service').release();
  });

  it('is never taken from a live holder on another host (a shared volume)', () => {
    const elsewhere = { ...describeProcess(process.pid, 'the service'), hostname: 'another-host' };
    writeFileSync(path.join(directory, LOCK_FILE), JSON.stringify(elsewhere));
    expect(() => lockDataDir(directory, 'the service')).toThrow(`process ${process.pid} on host another-host`);
  });

  it('lets exactly one of many processes that start at once take it', async () => {
    // A holder keeps the lock until every process has answered (its stdin closes), so that a slow
    // starter on a loaded machine never meets a holder that has already gone.
    const holders = Array.from({ length: 6 }, () =>
      spawn(
        process.execPath,
        [
          ...NODE_ARGS,
          '-e',
          `const { lockDataDir } = require(process.argv[1]);
           try { lockDataDir(process.argv[2], 'the service'); process.stdout.write('locked'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); }
           catch (error) { process.stdout.write('refused'); }`,
          LOCK_MODULE,
          directory,
        ],
        { ...NODE_OPTIONS, stdio: ['pipe', 'pipe', 'pipe'] },
      ),
    );
    const outcomes = await Promise.all(
      holders.map(
        (child) =>
          new Promise<string>((resolve) => {
            child.stdout.on('data', (chunk) => resolve(String(chunk)));
            child.on('exit', () => resolve(''));
          }),
      ),
    );
    for (const child of holders) child.stdin.end();
    await Promise.all(holders.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
    expect(outcomes.filter((outcome) => outcome === 'locked')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(5);
  }, 30_000);

  it('is released when the process exits through process.exit', () => {
    const result = spawnSync(
      process.execPath,
      [...NODE_ARGS, '-e', `require(process.argv[1]).lockDataDir(process.argv[2], 'x'); process.exit(0)`, LOCK_MODULE, directory],
      NODE_OPTIONS,
    );
    expect(result.status).toBe(0);
    expect(existsSync(path.join(directory, LOCK_FILE))).toBe(false);
  });
});
