import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TEMPLATE_ENV, createTemplate, dropDatabase } from '../support/database';

/** The PostgreSQL server the benchmarks run on: real PostgreSQL, never the embedded one. */
export const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Makes the migrated template the test servers copy; returns how to drop it. */
export async function prepareDatabases(): Promise<() => Promise<void>> {
  process.env.TEST_DATABASE_URL = BENCH_DATABASE_URL;
  const template = await createTemplate(BENCH_DATABASE_URL);
  process.env[TEMPLATE_ENV] = template;
  return () => dropDatabase(BENCH_DATABASE_URL, template);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A small seeded generator (mulberry32), so that every run benchmarks, or a test draws, the same values. */
export function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Ranks (1-based, in the sorted values) of a 95% confidence interval for the median of `n`
 * values, free of any assumption on their distribution (the sign test's): the narrowest
 * [k, n + 1 - k] that misses the median with a probability of at most 5%, at most 2.5% on each
 * side (a binomial tail at one half). Undefined below 6 values, where no such interval exists.
 */
export function medianIntervalRanks(n: number): [number, number] | undefined {
  // P(X <= j) for X ~ Binomial(n, 1/2), j from 0 up, until it passes 2.5%.
  let term = 0.5 ** n;
  let below = 0;
  let k = 0;
  for (let j = 0; j < n; j++) {
    if (below + term > 0.025) break;
    below += term;
    k = j + 1;
    term = (term * (n - j)) / (j + 1);
  }
  return k === 0 ? undefined : [k, n + 1 - k];
}

/** How long `work` took, in milliseconds. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/**
 * A GraphQL POST to the server as the bearer of `token`: the operation's data, or a throw when the
 * answer has errors.
 */
export function graphqlPoster(url: string, token: string) {
  return async (query: string, variables: Record<string, unknown>): Promise<Record<string, any>> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown };
    if (body.errors) throw new Error(`the benchmark's request failed: ${JSON.stringify(body.errors)}`);
    return body.data as Record<string, any>;
  };
}

export const ms = (value: number) => `${value.toFixed(2)} ms`;

/** Prints rows as an aligned table. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  process.stdout.write(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of cells.slice(1)) process.stdout.write(`${line(row)}\n`);
}

export interface ServerProcessRequest {
  id: number;
  op: 'stats' | 'resetPeak' | 'stop';
}

export interface ServerProcessReply {
  id: number;
  result?: unknown;
  error?: string;
}

export interface ServerProcessStats {
  /** Resident set size now, bytes. */
  rss: number;
  heapUsed: number;
  /** The highest RSS sampled (every 25 ms) since start or the last resetPeak. */
  peakRss: number;
  /** The highest V8 heap size (heapTotal) and memory outside it (external: buffers, zlib…) sampled likewise. */
  peakHeapTotal: number;
  peakExternal: number;
  /** The kernel's high-water mark of the process's RSS, bytes. */
  maxRss: number;
  /** CPU time (user + system) the server process has used, ms. */
  cpuMs: number;
  /** SQL statements the server has sent (its SqlLogger's count). */
  statements: number;
  /** How late the event loop ran (perf_hooks.monitorEventLoopDelay) since start or the last resetPeak: p99 and max, ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Garbage collection pauses since start or the last resetPeak. */
  gc: { totalMs: number; maxMs: number; count: number };
}

export interface ServerProcess {
  url: string;
  /** The server's own database (a copy of the template). */
  databaseUrl: string;
  pid: number;
  stats(): Promise<ServerProcessStats>;
  /** Starts sampling the peak RSS (and the loop delay and GC pauses) afresh; answers the figures until then. */
  resetPeak(): Promise<ServerProcessStats>;
  stop(): Promise<void>;
}

/**
 * The test server (startTestServer) in a child process (server-process.ts), so that its RSS and
 * CPU figures are its own and the load generator does not share its event loop. With
 * BENCH_SERVER_CPU_PROF=<directory> the child writes a V8 CPU profile there when it stops;
 * BENCH_SERVER_NODE_ARGS passes other Node options to it (e.g. `--trace-gc`).
 */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const profileDirectory = process.env.BENCH_SERVER_CPU_PROF;
  const child = fork(require.resolve('ts-node/dist/bin.js'), ['--swc', path.join(__dirname, 'server-process.ts')], {
    env: { ...process.env, BENCH_SERVER_ENV: JSON.stringify(env) },
    execArgv: [
      ...(profileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`] : []),
      ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      const error = new Error(`the server process exited (${signal ?? code})`);
      for (const waiting of pending.values()) waiting.reject(error);
      pending.clear();
      reject(error);
    });
  });
  exited.catch(() => undefined);
  child.on('message', (reply: ServerProcessReply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.error !== undefined) waiting.reject(new Error(`in the server process: ${reply.error}`));
    else waiting.resolve(reply.result);
  });
  const ready = new Promise<unknown>((resolve, reject) => pending.set(0, { resolve, reject }));
  const started = (await Promise.race([ready, exited])) as { url: string; databaseUrl: string; pid: number };

  const call = <T>(op: ServerProcessRequest['op']) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, op } satisfies ServerProcessRequest);
    });
  let stopped: Promise<void> | undefined;
  return {
    ...started,
    stats: () => call('stats'),
    resetPeak: () => call('resetPeak'),
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        await call('stop');
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.disconnect();
        await gone;
      })();
      return stopped;
    },
  };
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** How a figure compares with its target. */
export const verdict = (met: boolean) => (met ? 'PASS' : 'MISS');

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) process `pid` has used, ms, from /proc (clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Process `pid`'s resident set size now, bytes (VmRSS in /proc/<pid>/status). */
export function processRss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export interface RssPeak {
  peak: number;
  samples: number;
  /** The longest time between two samples, ms (the sampler shares the benchmark's event loop). */
  longestGapMs: number;
}

/** Samples process `pid`'s RSS from outside it every `everyMs` until stopped; the peak seen. */
export function sampleRss(pid: number, everyMs: number): { stop(): RssPeak } {
  let peak = processRss(pid);
  let samples = 1;
  let longestGapMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    peak = Math.max(peak, processRss(pid));
    samples += 1;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, processRss(pid));
      return { peak, samples: samples + 1, longestGapMs };
    },
  };
}

/** CPU time the whole machine has spent busy, ms (/proc/stat: all but idle, iowait and steal, over every core). */
export function machineBusyMs(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq] = fields.map(Number);
  return ((user + nice + system + irq + softirq) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * How long the main thread of process `pid` (for Node, its event loop) has waited for a CPU while
 * runnable, ms (/proc/<pid>/schedstat): time it could have run but the machine's cores were taken.
 */
export function runQueueWaitMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
}
