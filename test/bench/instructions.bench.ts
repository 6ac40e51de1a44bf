import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signDevToken } from '../../src/auth/dev-token';
import { DEFAULT_ROOT_RATIO } from '../../src/telemetry/tracing';
import { build } from '../support/built-server';
import { createTestDatabase } from '../support/database';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { TEST_JWT_SECRET } from '../support/test-server';
import type { LoadPlan } from './load-process';
import { type Server, catalogRequest, startLoadProcess, startService } from './overhead.bench';
import { printTable, verdict } from './support';

/**
 * What tracing costs `{ modelCatalog { id } }`, counted in instructions rather than timed (issue
 * 14): valgrind's callgrind counts every instruction the built service executes (every thread
 * of it: V8's compilers' and garbage collector's too) over MEASURED requests, after WARM_UP
 * requests that are not counted, one server at a time, each on a fresh database, in ROUNDS.
 * Outside V8's compilers a count repeats within about 1% whatever else the machine does, where
 * req/s on a shared machine moves by more than the difference measured (the overhead bench's
 * twin); the compilers' part moves by a fifth from one count to the next.
 *
 * It counts the work done, not what it costs by the clock, and it is no substitute for the
 * overhead bench: on a quiet machine (docs/tracing-cost.md, 2026-12-03) tracing never sampled
 * and at the default sampling read within 2% of tracing off here, outside the compilers, while
 * by the clock they cost 0-8% and 0-17% of req/s (the overhead bench: 11-16% at the default),
 * on the same main thread, with the same system calls. callgrind's simulated caches and branch predictor (BENCH_INSTRUCTIONS_SIMULATE=1) saw no
 * difference either. Under valgrind each request takes 30 to 50 times as long and the threads
 * take turns: what runs by the clock weighs that much more per request (so /metrics is not
 * scraped here, and the span processor's export every 5 s falls on the count), and what runs
 * beside the main thread (V8's concurrent compiling and marking) runs at another pace.
 *
 * Node runs with `--random-seed`, so that each run samples the same requests. Skipped, with a
 * line that says so, where valgrind is not installed (`apt-get install -y valgrind`). A server
 * takes about a minute a round; BENCH_INSTRUCTIONS_SERVERS=off,default counts only those (off,
 * never, default, always), BENCH_INSTRUCTIONS_ROUNDS (2), BENCH_INSTRUCTIONS_WARM_UP (20,000)
 * and BENCH_INSTRUCTIONS_MEASURED (2,000) change the counts, and BENCH_INSTRUCTIONS_KEEP=1 keeps
 * the callgrind files (their directory is printed) for callgrind_annotate.
 */

const CONNECTIONS = 10;
/** After 3,000 requests V8's compilers were still a fifth of a request's count; after 20,000, 2-4% on one machine and 10-20% on another. */
const WARM_UP = Number(process.env.BENCH_INSTRUCTIONS_WARM_UP ?? 20_000);
const MEASURED = Number(process.env.BENCH_INSTRUCTIONS_MEASURED ?? 2_000);
/** Each server is counted this many times, every other round in reverse order: V8's compilers' part moves from one count to the next. */
const ROUNDS = Number(process.env.BENCH_INSTRUCTIONS_ROUNDS ?? 2);
const RANDOM_SEED = 7;
/** BENCH_INSTRUCTIONS_SIMULATE=1: callgrind also simulates the caches and the branch predictor (about twice as slow). */
const SIMULATE = process.env.BENCH_INSTRUCTIONS_SIMULATE === '1';
/** BENCH_INSTRUCTIONS_KEEP=1: the callgrind files are kept (their directory is printed). */
const KEEP = process.env.BENCH_INSTRUCTIONS_KEEP === '1';
const TARGET_TRACING_COST = 0.15;

type ServerName = 'off' | 'never' | 'default' | 'always';

/** `tracing`: what a traced server's environment adds to the OTLP endpoint (none: tracing off). */
const SERVERS: { name: ServerName; label: string; tracing?: Record<string, string> }[] = [
  { name: 'off', label: 'tracing off' },
  { name: 'never', label: 'tracing on, no request sampled (parentbased_always_off)', tracing: { OTEL_TRACES_SAMPLER: 'parentbased_always_off' } },
  { name: 'default', label: `tracing on, the default sampling (1 in ${Math.round(1 / DEFAULT_ROOT_RATIO)} roots)`, tracing: {} },
  { name: 'always', label: 'tracing on, every request sampled (parentbased_always_on)', tracing: { OTEL_TRACES_SAMPLER: 'parentbased_always_on' } },
];

interface Count {
  /**
   * callgrind's events of the measured requests, all threads, by name: Ir (instructions) alone, or
   * with BENCH_INSTRUCTIONS_SIMULATE also its cache and branch events.
   */
  events: Record<string, number>;
  /** Of the instructions, those in V8's optimizing compilers (TurboFan, Maglev): functions of `compiler::` or `maglev::`. */
  compiler: number;
  /** Of the instructions, those in V8's heap (allocation and garbage collection): `v8::internal::Heap::`, `Scavenger`, `MarkCompact`, … */
  heap: number;
  /** Spans the server exported (the warm-up's included): none with tracing off or never sampling. */
  spans: number;
}

/** valgrind's tools, or why they are missing. */
function valgrindMissing(): string | undefined {
  for (const tool of ['valgrind', 'callgrind_control', 'callgrind_annotate']) {
    const found = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (found.error) return `${tool} is not installed (apt-get install -y valgrind)`;
  }
  return undefined;
}

/**
 * callgrind_control on the server's process (its HOST too: vgdb names the pipes it listens on by
 * it). Synchronous: the bench's event loop (the receiver) waits meanwhile, while the server is idle.
 */
function callgrindControl(pid: number, ...args: string[]): void {
  const done = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8', env: { ...process.env, HOST: '127.0.0.1' }, timeout: 120_000 });
  if (done.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} ${pid} failed (${done.status}): ${done.stderr || done.stdout}`);
}

/** The dump's totals, and the instructions' parts by function from callgrind_annotate's self costs. */
function countOf(file: string): Omit<Count, 'spans'> {
  // The dump's `totals:` (its `summary:` reads 0 when instrumentation was switched on late).
  const text = readFileSync(file, 'utf8');
  const names = /^events:\s+(.+)$/m.exec(text)?.[1].trim().split(/\s+/);
  const totals = /^totals:\s+([\d ]+)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number);
  if (!names || !totals) throw new Error(`${file} holds no events or totals line`);
  const events = Object.fromEntries(names.map((name, index) => [name, totals[index] ?? 0]));
  const annotated = spawnSync('callgrind_annotate', ['--threshold=100', '--auto=no', '--show=Ir', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (annotated.status !== 0) throw new Error(`callgrind_annotate ${file} failed: ${annotated.stderr}`);
  let compiler = 0;
  let heap = 0;
  for (const line of annotated.stdout.split('\n')) {
    const found = /^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$/.exec(line);
    if (!found) continue;
    const cost = Number(found[1].replace(/,/g, ''));
    const name = found[2];
    if (/v8::internal::(compiler|maglev)::/.test(name)) compiler += cost;
    else if (/v8::internal::(Heap::|Scavenger|MarkCompact|MinorMarkSweep|ConcurrentMarking|MarkingVisitor|Sweeper|.*Evacuat|MainMarkingVisitor|ScavengeVisitor)/.test(name)) heap += cost;
  }
  return { events, compiler, heap };
}

async function countServer(
  server: (typeof SERVERS)[number],
  receiver: { url: string; count(): number },
  plan: Omit<LoadPlan, 'url' | 'seconds'>,
  load: Awaited<ReturnType<typeof startLoadProcess>>,
  directory: string,
  step: (what: string) => void,
  round: number,
): Promise<Count> {
  const database = await createTestDatabase();
  const out = path.join(directory, `callgrind.${server.name}.${round + 1}`);
  const tracing = server.tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...server.tracing } : {};
  let service: Server | undefined;
  const spansBefore = receiver.count();
  try {
    step(`${server.name}: starting under callgrind`);
    service = await startService(
      database.url,
      // Under valgrind a start takes a while; the pool waits as long.
      { ...tracing, DATABASE_CONNECT_TIMEOUT_MS: '60000' },
      [`--random-seed=${RANDOM_SEED}`],
      ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}`, `--log-file=${out}.log`, ...(SIMULATE ? ['--cache-sim=yes', '--branch-sim=yes'] : [])],
    );
    step(`${server.name}: ${WARM_UP.toLocaleString('en')} requests of warm-up, not counted`);
    const warm = await load.run({ ...plan, url: service.url, seconds: 0, amount: WARM_UP, timeoutSeconds: 60 });
    if (warm.failures > 0) throw new Error(`${server.label}: ${warm.failures} failed requests in the warm-up; first: ${warm.firstFailure}`);
    callgrindControl(service.pid, '-i', 'on');
    step(`${server.name}: ${MEASURED.toLocaleString('en')} requests counted`);
    const measured = await load.run({ ...plan, url: service.url, seconds: 0, amount: MEASURED, timeoutSeconds: 60 });
    callgrindControl(service.pid, '-i', 'off');
    if (measured.failures > 0) throw new Error(`${server.label}: ${measured.failures} failed requests; first: ${measured.firstFailure}`);
    callgrindControl(service.pid, '-d');
    const count = countOf(`${out}.1`);
    // Stopped, it exports what it still holds.
    const stopping = service;
    service = undefined;
    await stopping.stop();
    return { ...count, spans: receiver.count() - spansBefore };
  } finally {
    await service?.stop();
    await database.drop();
  }
}

export async function benchInstructions(): Promise<void> {
  const started = performance.now();
  const step = (what: string) => process.stdout.write(`instructions: ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  const missing = valgrindMissing();
  if (missing) {
    process.stdout.write(`instructions bench skipped: ${missing}\n`);
    return;
  }
  const names = process.env.BENCH_INSTRUCTIONS_SERVERS?.split(',').map((name) => name.trim());
  const unknown = names?.filter((name) => !SERVERS.some((server) => server.name === name)) ?? [];
  if (unknown.length > 0 || names?.length === 0) {
    throw new Error(`BENCH_INSTRUCTIONS_SERVERS names no server ${unknown.join(', ')}; the servers: ${SERVERS.map((server) => server.name).join(', ')}`);
  }
  const servers = names ? SERVERS.filter((server) => names.includes(server.name)) : SERVERS;
  step('building');
  build();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'byom-callgrind-'));
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;
  let load: Awaited<ReturnType<typeof startLoadProcess>> | undefined;
  try {
    receiver = await startOtlpReceiver({ keep: false });
    load = await startLoadProcess();
    // Ten callers in turn, as the overhead bench's modelCatalog cells (the catalog needs no membership).
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, n) => signDevToken(TEST_JWT_SECRET, { sub: `instructions-user-${n}`, ttl: '2h' })));
    const plan = { connections: CONNECTIONS, requests: tokens.map(catalogRequest) };
    const counts = new Map<ServerName, Count[]>(servers.map((server) => [server.name, []]));
    // One at a time: two servers under valgrind at once read up to twice the compiling and GC. In
    // rounds, every other one in reverse order, so that each server is counted more than once.
    for (let round = 0; round < ROUNDS; round++) {
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
        const count = await countServer(server, receiver, plan, load, directory, (what) => step(`round ${round + 1} of ${ROUNDS}, ${what}`), round);
        counts.get(server.name)?.push(count);
      }
    }

    const thousands = (value: number) => (value / MEASURED / 1000).toFixed(0);
    const each = (list: Count[], part: (count: Count) => number) => list.map((count) => thousands(part(count))).join(', ');
    const mean = (list: Count[], part: (count: Count) => number) => list.reduce((sum, count) => sum + part(count), 0) / list.length;
    const all = (count: Count) => count.events.Ir;
    const outsideCompilers = (count: Count) => count.events.Ir - count.compiler;
    const off = counts.get('off');
    const against = (list: Count[], part: (count: Count) => number) => (off ? `${((mean(list, part) / mean(off, part) - 1) * 100).toFixed(1)}%` : '');
    printTable(
      `Instructions (callgrind) per { modelCatalog { id } } request, in thousands, each round's: ${MEASURED.toLocaleString('en')} requests counted after ${WARM_UP.toLocaleString('en')} not counted, ` +
        `${CONNECTIONS} connections, one server at a time, ${ROUNDS} round(s), node --random-seed=${RANDOM_SEED}; against tracing off by the means`,
      ['server', 'all', 'V8 compilers', 'V8 heap', 'all but the compilers', 'all, against off', 'but the compilers, against off', 'spans exported'],
      servers.map(({ name, label }) => {
        const list = counts.get(name) as Count[];
        const vsOff = name !== 'off';
        return [label, each(list, all), each(list, (count) => count.compiler), each(list, (count) => count.heap), each(list, outsideCompilers), vsOff ? against(list, all) : '', vsOff ? against(list, outsideCompilers) : '', list.map((count) => count.spans.toLocaleString('en')).join(', ')];
      }),
    );
    if (SIMULATE) {
      const parts: [string, string[]][] = [
        ['L1 instruction misses', ['I1mr']],
        ['L1 data misses', ['D1mr', 'D1mw']],
        ['last-level misses', ['ILmr', 'DLmr', 'DLmw']],
        ['branches mispredicted', ['Bcm', 'Bim']],
      ];
      const sum = (count: Count, events: string[]) => events.reduce((total, event) => total + (count.events[event] ?? 0), 0);
      printTable(
        "… and what callgrind's simulation of the caches and the branch predictor counts, a request, each round's (against tracing off by the means)",
        ['server', ...parts.map(([title]) => title)],
        servers.map(({ name, label }) => {
          const list = counts.get(name) as Count[];
          return [
            label,
            ...parts.map(([, events]) => {
              const values = list.map((count) => (sum(count, events) / MEASURED).toFixed(0)).join(', ');
              return off && name !== 'off' ? `${values} (${against(list, (count) => sum(count, events))})` : values;
            }),
          ];
        }),
      );
    }
    const lines: string[] = [];
    for (const name of ['never', 'default'] as const) {
      const list = counts.get(name);
      if (!off || !list) continue;
      const served = mean(off, all) / mean(list, all);
      const cost = 1 - served;
      lines.push(
        `modelCatalog with ${SERVERS.find((server) => server.name === name)?.label}: the requests a core serves ÷ off ${served.toFixed(3)}, ` +
          `a cost of ${(cost * 100).toFixed(1)}% (goal ≤ ${TARGET_TRACING_COST * 100}%): ${verdict(cost <= TARGET_TRACING_COST)}; ` +
          `outside V8's compilers ${((1 - mean(off, outsideCompilers) / mean(list, outsideCompilers)) * 100).toFixed(1)}%`,
      );
    }
    process.stdout.write(`${lines.join('\n')}${lines.length ? '\n' : ''}`);
  } finally {
    load?.stop();
    await receiver?.close();
    if (KEEP) process.stdout.write(`callgrind files kept in ${directory}\n`);
    else rmSync(directory, { recursive: true, force: true });
  }
  process.stdout.write(`instructions bench: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
