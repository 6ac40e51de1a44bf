import { fork } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { signDevToken } from '../../src/auth/dev-token';
import { DEFAULT_HTTP_LIMITS } from '../../src/config';
import { ANONYMOUS_BODY_LIMIT_BYTES } from '../../src/http-limits';
import { TEST_JWT_SECRET } from '../support/test-server';
import type { AttackerOp, AttackerReply, AttackerRequest } from './attacker-process';
import { Attack, type AttackPlan, type AttackStats, BODY_KINDS, type BodyKind, openFileLimit } from './attackers';
import { type CpuSnapshot, cpuMeter, expectedEffective, generateTree, insertTree, ORGANIZATION_QUERY, type TreeShape } from './effective-models.bench';
import { machineBusyMs, mb, ms, mulberry32, percentile, printTable, processCpuMs, type RssPeak, runQueueWaitMs, sampleRss, startServerProcess, timed, verdict } from './support';

/** A few hundred organizations: enough for the walk to be real SQL, quick to seed. */
const TREE: TreeShape = { organizations: 400, roots: 8, deepChains: 4, maxLevels: 20 };
/** Organizations the load asks about, each by a member of its own. */
const LOAD_SAMPLE = 200;
const CONNECTIONS = 10;
const WARM_SECONDS = 2;
const PHASE_SECONDS = 10;
/** The attack runs this long before the measured window (once its slow sockets are open and its clients going). */
const RAMP_SECONDS = 2;
const RSS_EVERY_MS = 100;

const BODY_CLIENTS = 200;
const SLOW_SOCKETS = 500;
/** Sockets kept free below the server's connection cap and the processes' open-file limits. */
const HEADROOM = 100;

const TARGET_RATIO = 0.7;
const TARGET_P99_MS = 100;
const TARGET_RSS = 400 * 1024 * 1024;
/** Above this share of a core used by other processes in a phase, the figures are flagged as disturbed. */
const BUSY_MACHINE_PERCENT = 20;

function envNumber(name: string, fallback: number): number {
  const given = process.env[name];
  if (given === undefined || given === '') return fallback;
  const value = Number(given);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of milliseconds, not ${given}`);
  return value;
}

/**
 * The attackers' pace, per client: a 64 KiB chunk of a streamed body every 20 ms (3.2 MB/s), and
 * 50 ms between an answer and the next request. BENCH_ATTACK_KINDS (declared, chunked, gzip) and
 * BENCH_ATTACK_PAUSE_MS change them, to tell the kinds' costs apart.
 */
function attackPlan(url: URL, slowSockets: number): AttackPlan {
  const kinds = (process.env.BENCH_ATTACK_KINDS?.split(',').map((kind) => kind.trim()) ?? [...BODY_KINDS]) as BodyKind[];
  const unknown = kinds.filter((kind) => !BODY_KINDS.includes(kind));
  if (unknown.length > 0 || kinds.length === 0) throw new Error(`BENCH_ATTACK_KINDS names no kind ${unknown.join(', ')}; the kinds: ${BODY_KINDS.join(', ')}`);
  return {
    host: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    bodyClients: BODY_CLIENTS,
    kinds,
    minBodyMb: 1,
    maxBodyMb: 14,
    chunkBytes: 64 * 1024,
    chunkEveryMs: 20,
    pauseMs: envNumber('BENCH_ATTACK_PAUSE_MS', 50),
    answerTimeoutMs: 30_000,
    slowSockets,
    slowEveryMs: 1_000,
    slowFragmentBytes: 4,
  };
}

interface Attacker {
  pid: number;
  openFileLimit: number;
  /** Where the attackers run: a child process, or the benchmark's own. */
  where: string;
  start(plan: AttackPlan): Promise<void>;
  stop(): Promise<AttackStats>;
  close(): Promise<void>;
}

/** The attackers in a child process (attacker-process.ts), or, with BENCH_ATTACK_IN_PROCESS=1, in this one. */
async function startAttacker(): Promise<Attacker> {
  if (process.env.BENCH_ATTACK_IN_PROCESS === '1') {
    let attack: Attack | undefined;
    return {
      pid: process.pid,
      openFileLimit: openFileLimit(),
      where: "the benchmark's own process (BENCH_ATTACK_IN_PROCESS=1), beside autocannon",
      async start(plan) {
        attack = new Attack(plan);
        await attack.start();
      },
      stop: () => (attack as Attack).stop(),
      close: async () => undefined,
    };
  }
  const child = fork(require.resolve('ts-node/dist/bin.js'), ['--swc', path.join(__dirname, 'attacker-process.ts')], {
    // Not this process's own (ts-node's bin and its options, under npm run bench).
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  child.once('exit', (code, signal) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`the attacker process exited (${signal ?? code})`));
    pending.clear();
  });
  child.on('message', (reply: AttackerReply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.error !== undefined) waiting.reject(new Error(`in the attacker process: ${reply.error}`));
    else waiting.resolve(reply.result);
  });
  const ready = await new Promise<{ pid: number; openFileLimit: number }>((resolve, reject) => pending.set(0, { resolve, reject }));
  let nextId = 1;
  const call = <T>(request: AttackerOp) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...request, id } satisfies AttackerRequest);
    });
  return {
    ...ready,
    where: 'a child process of its own (attacker-process.ts)',
    start: (plan) => call({ op: 'start', plan }),
    stop: () => call({ op: 'stop' }),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await gone;
    },
  };
}

interface LoadRequest {
  body: string;
  authorization: string;
  expected: string;
}

interface PhaseLoad {
  /** Right answers per second. */
  rps: number;
  right: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  /** Answers other than 200, connection errors and timeouts: counted, not thrown (the attack may cause them). */
  non200: number;
  errors: number;
  timeouts: number;
  /** How late this process's event loop (autocannon's) ran during the phase, p99, ms: latency it adds to every figure. */
  loopDelayP99: number;
}

/**
 * autocannon at CONNECTIONS connections for `seconds`, the n-th request `nth(n)`. A 200 whose body
 * is not exactly the one expected throws; other failures are counted.
 */
async function load(url: string, seconds: number, nth: (n: number) => LoadRequest): Promise<PhaseLoad> {
  let next = 0;
  let right = 0;
  let wrong: string | undefined;
  const latencies: number[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections: CONNECTIONS,
        duration: seconds,
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest(request, context) {
              const chosen = nth(next);
              next += 1;
              context.expected = chosen.expected;
              return { ...request, body: chosen.body, headers: { ...request.headers, authorization: chosen.authorization } };
            },
            onResponse(status, body, context) {
              if (status !== 200) return;
              if (body.trimEnd() === context.expected) right += 1;
              else wrong ??= `expected ${String(context.expected)}, got ${body.slice(0, 500)}`;
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  loopDelay.disable();
  if (wrong) throw new Error(`organization(id) { effectiveModels } answered 200 wrongly: ${wrong}`);
  latencies.sort((a, b) => a - b);
  return {
    rps: right / result.duration,
    right,
    seconds: result.duration,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    non200: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    loopDelayP99: loopDelay.percentile(99) / 1e6,
  };
}

/**
 * CPU used during a phase, ms: the server, its PostgreSQL backends, autocannon's process (this
 * one), the attackers, and the rest of the machine (other people's work on it counts there); and
 * how long the server's event loop waited for a core while it had work.
 */
interface PhaseCpu {
  server: number;
  postgres: number | null;
  bench: number;
  attacker: number | null;
  rest: number | null;
  serverWaited: number;
}

async function cpuSnapshot(serverPid: number, attackerPid: number, meter: () => Promise<CpuSnapshot>) {
  const own = process.cpuUsage();
  const postgres = (await meter()).postgres;
  return {
    server: processCpuMs(serverPid),
    postgres,
    bench: (own.user + own.system) / 1000,
    attacker: attackerPid === process.pid ? 0 : processCpuMs(attackerPid),
    machine: machineBusyMs(),
    serverWaited: runQueueWaitMs(serverPid),
  };
}

type Snapshot = Awaited<ReturnType<typeof cpuSnapshot>>;

const cpuBetween = (before: Snapshot, after: Snapshot, attacking: boolean): PhaseCpu => {
  const used = (key: 'server' | 'bench' | 'attacker' | 'machine' | 'serverWaited') => after[key] - before[key];
  const postgres = before.postgres === null || after.postgres === null ? null : after.postgres - before.postgres;
  return {
    server: used('server'),
    postgres,
    bench: used('bench'),
    attacker: attacking ? used('attacker') : null,
    rest: postgres === null ? null : Math.max(0, used('machine') - used('server') - postgres - used('bench') - used('attacker')),
    serverWaited: used('serverWaited'),
  };
};

/** CPU as a share of one core over `seconds`. */
const core = (cpuMs: number | null, seconds: number) => (cpuMs === null ? '-' : `${((cpuMs / 10) / seconds).toFixed(0)}%`);

/**
 * organization(id) { effectiveModels } for a member, calm and then under attack, the server in a
 * process of its own: 200 anonymous clients sending 1–14 MB bodies (declared and streamed, chunked
 * with no length, gzip inflating to megabytes) and 500 slow sockets trickling their headers.
 * Throughput, p99 and the server's peak RSS of both phases side by side, with what the attackers
 * got back. Figures beside targets (PASS/MISS); it throws only on a wrong answer.
 */
export async function benchAttack(): Promise<void> {
  const started = performance.now();
  const server = await startServerProcess({ LOG_LEVEL: 'warn' });
  const client = new Client({ connectionString: server.databaseUrl });
  await client.connect();
  let attacker: Attacker | undefined;
  let closeMeter: () => Promise<void> = async () => undefined;
  try {
    const random = mulberry32(0x61747461);
    const nodes = generateTree(random, TREE);
    const order = nodes.map((_, index) => index);
    for (let i = order.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const sample = order.slice(0, LOAD_SAMPLE);
    const seeding = await timed(() =>
      insertTree(
        client,
        nodes,
        sample.map((index, n) => ({ organizationId: nodes[index].id, userId: `attack-member-${n}` })),
      ),
    );
    const tokens = await Promise.all(sample.map((_, n) => signDevToken(TEST_JWT_SECRET, { sub: `attack-member-${n}` })));
    const requests: LoadRequest[] = sample.map((index, n) => ({
      body: JSON.stringify({ query: ORGANIZATION_QUERY, variables: { id: nodes[index].id } }),
      authorization: `Bearer ${tokens[n]}`,
      expected: JSON.stringify({ data: { organization: { effectiveModels: expectedEffective(nodes, index) } } }),
    }));
    const nth = (n: number) => requests[n % requests.length];

    attacker = await startAttacker();
    // The slow sockets fit under the server's connection cap and both processes' open files, with room to spare.
    const limits = DEFAULT_HTTP_LIMITS;
    const serverFiles = openFileLimit(server.pid);
    const others = BODY_CLIENTS + CONNECTIONS + HEADROOM;
    const slowSockets = Math.max(0, Math.min(SLOW_SOCKETS, limits.maxConnections - others, serverFiles - others, attacker.openFileLimit - BODY_CLIENTS - HEADROOM));
    const plan = attackPlan(new URL(server.url), slowSockets);
    const cpu = await cpuMeter(server, (client as unknown as { processID: number }).processID);
    closeMeter = cpu.close;

    process.stdout.write(
      `\nAttack: ${nodes.length} organizations (levels 1-${Math.max(...nodes.map((node) => node.level))}), seeded in ${ms(seeding)}; ` +
        `organization(id) { effectiveModels {…} } by a member of each of ${LOAD_SAMPLE} (autocannon, ${CONNECTIONS} connections, ${PHASE_SECONDS} s a phase ` +
        `after ${WARM_SECONDS} s of warm-up).\nUnder attack: ${plan.bodyClients} anonymous clients (${plan.kinds.join(', ')} bodies of ${plan.minBodyMb}-${plan.maxBodyMb} MB in turn, ` +
        `streamed ${plan.chunkBytes / 1024} KiB every ${plan.chunkEveryMs} ms, a connection each, each client waiting for its answer and then ${plan.pauseMs} ms: ` +
        `a closed loop, whose rate follows the server's) and ${slowSockets} slow sockets ` +
        `(${plan.slowFragmentBytes} bytes of headers every ${plan.slowEveryMs} ms, reopened when closed), from ${attacker.where}, starting ${RAMP_SECONDS} s before the measured window.\n` +
        `Server limits (defaults): anonymous body ${ANONYMOUS_BODY_LIMIT_BYTES / 1024} KiB, headers timeout ${limits.headersTimeoutMs} ms, ` +
        `at most ${limits.maxConnections} connections; open files: server ${serverFiles}, attackers ${attacker.openFileLimit}; ` +
        `${plan.bodyClients + slowSockets + CONNECTIONS} sockets at most at once. RSS read from /proc/<pid>/status every ${RSS_EVERY_MS} ms.\n`,
    );
    if (slowSockets < SLOW_SOCKETS) process.stdout.write(`(slow sockets cut from ${SLOW_SOCKETS} to ${slowSockets} to stay under those limits)\n`);

    await load(server.url, WARM_SECONDS, nth);

    // Calm.
    await server.resetPeak();
    let rss = sampleRss(server.pid, RSS_EVERY_MS);
    const snapshot = () => cpuSnapshot(server.pid, (attacker as Attacker).pid, cpu.snapshot);
    let before = await snapshot();
    const calm = await load(server.url, PHASE_SECONDS, nth);
    const calmCpu = cpuBetween(before, await snapshot(), false);
    const calmRss = rss.stop();
    const calmInside = await server.resetPeak();

    // Under attack: the attackers start, then the same load; the peak RSS covers the whole attack.
    rss = sampleRss(server.pid, RSS_EVERY_MS);
    const attackerCpuBefore = processCpuMs(attacker.pid);
    await attacker.start(plan);
    await new Promise((resolve) => setTimeout(resolve, RAMP_SECONDS * 1000));
    before = await snapshot();
    const attacked = await load(server.url, PHASE_SECONDS, nth);
    // With the attackers in this process their CPU is in autocannon's column.
    const attackedCpu = cpuBetween(before, await snapshot(), attacker.pid !== process.pid);
    const stats = await attacker.stop();
    const attackRss = rss.stop();
    const attackInside = await server.resetPeak();
    const attackerWholeCpu = attacker.pid === process.pid ? stats.cpuMs : processCpuMs(attacker.pid) - attackerCpuBefore;

    const ratio = attacked.rps / calm.rps;
    const rssRow = (peak: RssPeak) => `${mb(peak.peak)} (${peak.samples} samples, longest gap ${peak.longestGapMs.toFixed(0)} ms)`;
    const failures = (phase: PhaseLoad) => `${phase.non200} / ${phase.errors} / ${phase.timeouts}`;
    printTable(
      `(1) organization(id) { effectiveModels } by a member, calm and under attack (${PHASE_SECONDS} s each); CPU as a share of one core (the machine has 2)`,
      ['', 'req/s', 'p50', 'p99', 'max', 'non-200 / errors / timeouts', 'server CPU', 'PostgreSQL CPU', 'autocannon CPU', 'autocannon loop late p99', 'attackers CPU', 'rest of machine', 'server waited for a core', 'server peak RSS'],
      (
        [
          ['calm', calm, calmCpu, calmRss],
          ['under attack', attacked, attackedCpu, attackRss],
        ] as const
      ).map(([label, phase, used, peak]) => [
        label,
        phase.rps.toFixed(0),
        ms(phase.p50),
        ms(phase.p99),
        ms(phase.max),
        failures(phase),
        core(used.server, phase.seconds),
        core(used.postgres, phase.seconds),
        core(used.bench, phase.seconds),
        ms(phase.loopDelayP99),
        core(used.attacker, phase.seconds),
        core(used.rest, phase.seconds),
        `${(used.serverWaited / phase.seconds).toFixed(0)} ms/s`,
        rssRow(peak),
      ]),
    );
    const busiest = Math.max(calmCpu.rest ?? 0, attackedCpu.rest ?? 0) / 10 / PHASE_SECONDS;
    if (busiest > BUSY_MACHINE_PERCENT) {
      process.stdout.write(
        `(other work on the machine took up to ${busiest.toFixed(0)}% of a core during a phase, and the server waited for a core ` +
          `${(calmCpu.serverWaited / calm.seconds).toFixed(0)} ms/s calm, ${(attackedCpu.serverWaited / attacked.seconds).toFixed(0)} ms/s under attack: the comparison is disturbed)\n`,
      );
    }
    const goals: [string, boolean][] = [
      [`under attack ÷ calm req/s: ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO})`, ratio >= TARGET_RATIO],
      [`p99 under attack: ${ms(attacked.p99)} (target < ${TARGET_P99_MS} ms; calm ${ms(calm.p99)})`, attacked.p99 < TARGET_P99_MS],
      [`server peak RSS: calm ${mb(calmRss.peak)}, under attack ${mb(attackRss.peak)} (target < ${mb(TARGET_RSS)})`, Math.max(calmRss.peak, attackRss.peak) < TARGET_RSS],
    ];
    for (const [text, met] of goals) process.stdout.write(`${text}: ${verdict(met)}\n`);
    printTable(
      '    Inside the server process (its own figures: event loop delay, garbage collection, its own 25 ms RSS sampler)',
      ['', 'loop delay p99', 'loop delay max', 'GC pauses', 'longest GC', 'peak RSS', 'peak V8 heap', 'peak external'],
      (
        [
          ['calm', calmInside],
          ['under attack (ramp included)', attackInside],
        ] as const
      ).map(([label, inside]) => [
        label,
        ms(inside.loopDelayP99Ms),
        ms(inside.loopDelayMaxMs),
        `${inside.gc.count}, ${ms(inside.gc.totalMs)}`,
        ms(inside.gc.maxMs),
        mb(inside.peakRss),
        mb(inside.peakHeapTotal),
        mb(inside.peakExternal),
      ]),
    );

    // (2) What the attackers got back.
    const seconds = stats.seconds;
    const kindRows = plan.kinds.map((kind) => {
      const k = stats.body[kind];
      const other = Object.entries(k.statuses)
        .filter(([status]) => status !== '413' && status !== '400')
        .map(([status, n]) => `${n}×${status}`)
        .join(' ');
      const errors = Object.entries(k.errors)
        .map(([code, n]) => `${n}×${code}`)
        .join(' ');
      return [
        kind,
        k.requests,
        (k.requests / seconds).toFixed(0),
        k.statuses['413'] ?? 0,
        k.statuses['400'] ?? 0,
        other || '-',
        k.endedUnanswered,
        k.timedOut,
        errors || '-',
        ms(percentile(k.connectMs, 50)),
        ms(percentile(k.answerMs, 50)),
        ms(percentile(k.answerMs, 99)),
        mb(k.bytesSent),
      ];
    });
    printTable(
      `(2) The attackers' requests over the whole attack (${seconds.toFixed(1)} s, ramp included): ${plan.bodyClients} anonymous clients`,
      ['body', 'requests', 'per s', '413', '400', 'other answers', 'ended unanswered', 'gave up', 'socket errors', 'connect p50', 'answer p50', 'answer p99', 'body sent'],
      kindRows,
    );
    const slow = stats.slow;
    const lifetimes = slow.lifetimesMs;
    printTable(`    ${slowSockets} slow sockets`, ['', 'count'], [
      ['connections opened (reconnections included)', slow.opened],
      ['closed by the server', slow.closedByServer],
      ['… of which answered 408 first', slow.answered408],
      ['other answers', Object.entries(slow.otherAnswers).map(([s, n]) => `${n}×${s}`).join(' ') || '-'],
      ['socket errors', Object.entries(slow.errors).map(([code, n]) => `${n}×${code}`).join(' ') || '-'],
      ['most open at once', slow.maxOpen],
      ['still open when the attack stopped', slow.openAtStop],
      ['lifetime of the closed ones, min / p50 / max', lifetimes.length === 0 ? '-' : `${ms(lifetimes[0])} / ${ms(percentile(lifetimes, 50))} / ${ms(lifetimes.at(-1) as number)}`],
    ]);
    const refused = plan.kinds.reduce((sum, kind) => sum + (stats.body[kind].statuses['413'] ?? 0) + (stats.body[kind].statuses['400'] ?? 0), 0);
    process.stdout.write(
      `attack requests answered 413/400: ${refused}; slow sockets closed by the server: ${slow.closedByServer}; ` +
        `attackers' CPU over the whole attack: ${core(attackerWholeCpu, seconds)} of a core (${attacker.where}), ` +
        `their event loop late by ${ms(stats.loopDelayP99Ms)} at p99 (${ms(stats.loopDelayMaxMs)} at most).\n`,
    );

    // Wrong answers: an oversized anonymous body accepted or failing the server, partial headers answered otherwise than 408.
    const wrong = plan.kinds.flatMap((kind) =>
      Object.entries(stats.body[kind].statuses)
        .filter(([status]) => status !== '413' && status !== '400')
        .map(([status, n]) => `${n} ${kind} bodies answered ${status}`),
    );
    wrong.push(...Object.entries(slow.otherAnswers).map(([status, n]) => `${n} slow sockets answered ${status}`));
    if (slow.maxOpen > slowSockets) wrong.push(`${slow.maxOpen} slow sockets open at once, above ${slowSockets}`);
    if (wrong.length > 0) throw new Error(`the server answered the attack wrongly: ${wrong.join('; ')}`);
    process.stdout.write(`attack bench: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    await attacker?.close().catch(() => undefined);
    await closeMeter();
    await client.end();
    await server.stop();
  }
}
