import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config';

/**
 * One embedded data directory belongs to one process at a time (PGlite has no lock of its own:
 * two processes on one directory both start, and one's writes are lost).
 *
 * The lock is a file, `DATA_DIR/.lock`, naming its holder: pid, host, the kernel's boot id and
 * the process's start time. It is made whole under a temporary name and then hard-linked into
 * place, so it is taken atomically and never seen half-written. A holder that died (SIGKILL,
 * power loss) is told apart from a live one by those facts, not by age, so a crashed service can
 * be restarted at once and a live one that blocks its event loop (PGlite does, while it starts)
 * never loses its lock. mtime-based locks (proper-lockfile) can do neither, and cannot name the
 * holder.
 */
export const LOCK_FILE = '.lock';

export interface LockHolder {
  pid: number;
  hostname: string;
  /** /proc/sys/kernel/random/boot_id: a new one after every boot. */
  bootId?: string;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat): tells a reused pid apart. */
  startTicks?: string;
  /** What holds it: "the service", "migrations", … */
  purpose: string;
  since: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly directory: string,
    readonly holder: LockHolder,
  ) {
    const where = holder.hostname === os.hostname() ? `process ${holder.pid}` : `process ${holder.pid} on host ${holder.hostname}`;
    super(
      `the data directory ${directory} is in use by ${where} (${holder.purpose}, since ${holder.since}); ` +
        'only one process may open it: stop that one first, or set DATA_DIR to another directory',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly file: string;
  /**
   * Removes the lock if it is still this process's, and the directories that taking it made if
   * nothing else was written in them (a start refused for a busy port leaves no empty directory);
   * safe to call twice.
   */
  release(): void;
}

/**
 * Without DATABASE_URL, takes the data directory's lock for `purpose` (the embedded database is
 * one process's); with it, there is nothing to lock. Throws DataDirLockedError when it is held.
 */
export function claimDataDir(config: Pick<Config, 'databaseUrl' | 'dataDir'>, purpose: string): DataDirLock | undefined {
  return config.databaseUrl ? undefined : lockDataDir(config.dataDir, purpose);
}

export function lockDataDir(directory: string, purpose: string): DataDirLock {
  // The outermost directory this made, if it made any.
  const made = mkdirSync(directory, { recursive: true });
  const file = path.join(directory, LOCK_FILE);
  const mine = JSON.stringify(describeProcess(process.pid, purpose));
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryLink(file, mine)) return held(file, mine, made === undefined ? undefined : { innermost: path.resolve(directory), outermost: path.resolve(made) });
    let current: string;
    try {
      current = readFileSync(file, 'utf8');
    } catch (error) {
      if (isCode(error, 'ENOENT')) continue; // released meanwhile
      throw error;
    }
    const holder = parseHolder(current);
    if (holder && isAlive(holder)) throw new DataDirLockedError(directory, holder);
    takeOverStale(file, current);
  }
  throw new Error(`could not take the lock ${file}: other processes keep taking it`);
}

function held(file: string, mine: string, made: { innermost: string; outermost: string } | undefined): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    try {
      if (readFileSync(file, 'utf8') !== mine) return;
      unlinkSync(file);
    } catch {
      return; // Gone already: nothing to release.
    }
    if (made) removeEmpty(made.innermost, made.outermost);
  };
  // process.exit() skips finally blocks; the lock goes with the process all the same.
  process.on('exit', release);
  return { file, release };
}

/** Removes `innermost` and its parents up to `outermost` while they are empty. */
function removeEmpty(innermost: string, outermost: string): void {
  for (let directory = innermost; ; directory = path.dirname(directory)) {
    try {
      rmdirSync(directory);
    } catch {
      return; // not empty (the database was made), or gone
    }
    if (directory === outermost || path.dirname(directory) === directory) return;
  }
}

/** Writes the content under a temporary name, synced, then links it to `file` if that does not exist. */
function tryLink(file: string, content: string): boolean {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(temporary, 'wx', 0o644);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if (isCode(error, 'EEXIST')) return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * Moves a dead holder's lock aside. Between reading it and moving it another process may have
 * taken it over and locked anew: what was moved is compared with what was judged dead, and a
 * live lock is put back.
 */
function takeOverStale(file: string, judged: string): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return;
    throw error;
  }
  if (readFileSync(aside, 'utf8') !== judged) {
    try {
      linkSync(aside, file);
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
    }
  }
  unlinkSync(aside);
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid === 'number' && typeof value.hostname === 'string') return value as LockHolder;
  } catch {
    // Unreadable: a lock file is written whole before it is linked, so only a crash leaves one.
  }
  return undefined;
}

export function describeProcess(pid: number, purpose: string): LockHolder {
  return { pid, hostname: os.hostname(), bootId: bootId(), startTicks: startTicks(pid), purpose, since: new Date().toISOString() };
}

function isAlive(holder: LockHolder): boolean {
  // A process on another host (a shared volume) cannot be checked from here: it holds the lock.
  if (holder.hostname !== os.hostname()) return true;
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (isCode(error, 'ESRCH')) return false;
    // EPERM: it exists, under another user.
  }
  const ticks = startTicks(holder.pid);
  return !(holder.startTicks && ticks && holder.startTicks !== ticks);
}

function bootId(): string | undefined {
  return readProc('/proc/sys/kernel/random/boot_id')?.trim();
}

function startTicks(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  // The command name, in parentheses, may hold spaces: fields are counted after its last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException)?.code === code;
}
