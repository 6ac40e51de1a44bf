import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { signDevToken } from '../../src/auth/dev-token';
import { MODEL_CATALOG } from '../../src/catalog/catalog';
import { build } from '../support/built-server';
import { createTestDatabase } from '../support/database';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { TEST_ENCRYPTION_KEYS, TEST_JWT_SECRET } from '../support/test-server';
import { EFFECTIVE_SELECTION, expectedEffective, generateTree, insertTree, mulberry32 } from './effective-models.bench';
import type { LoadFigures, LoadPlan } from './load-process';
import { ms, printTable, processCpuMs, verdict } from './support';

/**
 * What this service's pipeline and its observability cost (issue 14), side by side in one run,
 * the load generator (autocannon) in a process of its own and each server in its own:
 * a bare Apollo Server 5 on Express 5 answering a trivial query; the built service
 * (`node dist/src/main.js`, NODE_ENV=production, logging at info) answering
 * `{ modelCatalog { id } }` and a member's `organization(id) { name effectiveModels {…} }`; then the
 * same two with tracing on to a local OTLP receiver (the default sampling, and every request
 * sampled) and /metrics scraped every second.
 *
 * BENCH_OVERHEAD_CPU_PROF=<directory>: the service without tracing runs under --cpu-prof, and
 * the heaviest frames of its profile are printed.
 */

const CONNECTIONS = 10;
const WARM_SECONDS = 2;
const SECONDS = 8;
const TREE = { organizations: 500, roots: 10, deepChains: 5, maxLevels: 20 };
const MEMBERS = 200;
const TARGET_CATALOG_OF_BARE = 0.75;
const TARGET_TRACING_COST = 0.15;

const ROOT = path.join(__dirname, '../..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');

interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a process that prints `{"url": …}` once it listens; stdout is drained after that. */
async function startPrinting(child: ChildProcess, what: string): Promise<Server> {
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const found = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (found) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(found[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${output}`)));
  });
  return {
    url,
    pid: child.pid as number,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function startBare(): Promise<Server> {
  const child = spawn(process.execPath, [TS_NODE, '--swc', path.join(__dirname, 'bare-server.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return startPrinting(child, 'the bare server');
}

function startService(databaseUrl: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Server> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OTEL_|DATABASE_|TEST_DATABASE_|NODE_OPTIONS$|BENCH_)/.test(name)));
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...inherited,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      HOST: '127.0.0.1',
      PORT: '0',
      SHUTDOWN_DRAIN_MS: '0',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      BYOM_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      DATABASE_URL: databaseUrl,
      DATABASE_CONNECT_TIMEOUT_MS: '10000',
      ...env,
    },
  });
  return startPrinting(child, 'the service');
}

async function startLoadProcess() {
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  // Not the benchmark's own execArgv: under ts-node, the child would run nothing and exit.
  const child = fork(TS_NODE, ['--swc', path.join(__dirname, 'load-process.ts')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  child.once('exit', (code) => {
    for (const waiting of pending.values()) waiting.reject(new Error(`the load generator exited (${code})`));
  });
  child.on('message', (reply: { id: number; result?: unknown; error?: string }) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error !== undefined) waiting?.reject(new Error(reply.error));
    else waiting?.resolve(reply.result);
  });
  await new Promise((resolve, reject) => pending.set(0, { resolve, reject }));
  let nextId = 1;
  return {
    run(plan: LoadPlan): Promise<LoadFigures> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, plan });
      });
    },
    stop() {
      child.disconnect();
    },
  };
}

interface Row {
  label: string;
  figures: LoadFigures;
  serverCpuPerRequest: number;
}

/** The heaviest frames of a V8 CPU profile, by self time, and by package. */
function printProfile(directory: string): void {
  const file = readdirSync(directory)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .at(-1);
  if (!file) return;
  const profile = JSON.parse(readFileSync(path.join(directory, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }[];
  };
  const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
  const byFrame = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const { callFrame, hitCount } of profile.nodes) {
    const where = callFrame.url.replace(`file://${ROOT}/`, '').replace(ROOT + '/', '');
    const frame = `${callFrame.functionName || '(anonymous)'} ${where}:${callFrame.lineNumber + 1}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hitCount);
    const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (where.startsWith('dist/') ? 'this service (dist/)' : where.startsWith('node:') ? 'node core' : callFrame.functionName || '(program)');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hitCount);
  }
  const top = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, hits]) => [name, `${((hits / total) * 100).toFixed(1)}%`]);
  printTable(`CPU profile of the service without tracing (${file}): heaviest by self time`, ['frame', 'self'], top(byFrame, 25));
  printTable('… and by package', ['package', 'self'], top(byPackage, 15));
}

export async function benchOverhead(): Promise<void> {
  const started = performance.now();
  const step = (what: string) => process.stdout.write(`overhead: ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  step('building');
  build();
  step('seeding');
  const database = await createTestDatabase();
  const client = new Client({ connectionString: database.url });
  await client.connect();
  step('receiver');
  const receiver = await startOtlpReceiver({ keep: false });
  step('load generator');
  const load = await startLoadProcess();
  const rows: Row[] = [];
  try {
    // Organizations with settings, inherited or not, each with a member of its own.
    const random = mulberry32(0x6f627321);
    const nodes = generateTree(random, TREE);
    const sample = nodes.map((_, index) => index).slice(0, MEMBERS);
    await insertTree(client, nodes, sample.map((index, n) => ({ organizationId: nodes[index].id, userId: `overhead-user-${n}` })));
    const tokens = await Promise.all(sample.map((_, n) => signDevToken(TEST_JWT_SECRET, { sub: `overhead-user-${n}`, ttl: '2h' })));
    const catalogRequests = tokens.map((token) => ({
      body: JSON.stringify({ query: '{ modelCatalog { id } }' }),
      authorization: `Bearer ${token}`,
      expected: JSON.stringify({ data: { modelCatalog: MODEL_CATALOG.map((model) => ({ id: model.id })) } }),
    }));
    const organizationQuery = `query($id: ID!) { organization(id: $id) { name ${EFFECTIVE_SELECTION} } }`;
    const organizationRequests = sample.map((index, n) => ({
      body: JSON.stringify({ query: organizationQuery, variables: { id: nodes[index].id } }),
      authorization: `Bearer ${tokens[n]}`,
      expected: JSON.stringify({ data: { organization: { name: `Bench ${index}`, effectiveModels: expectedEffective(nodes, index) } } }),
    }));

    const measure = async (label: string, server: Server, requests: LoadPlan['requests']) => {
      step(label);
      await load.run({ url: server.url, connections: CONNECTIONS, seconds: WARM_SECONDS, requests });
      const cpuBefore = processCpuMs(server.pid);
      const figures = await load.run({ url: server.url, connections: CONNECTIONS, seconds: SECONDS, requests });
      const cpu = processCpuMs(server.pid) - cpuBefore;
      if (figures.failures > 0) throw new Error(`${label}: ${figures.failures} failed requests; first: ${figures.firstFailure}`);
      rows.push({ label, figures, serverCpuPerRequest: cpu / figures.requests });
      return figures;
    };

    const bare = await startBare();
    const bareFigures = await measure('bare Apollo Server 5 on Express 5: { hello }', bare, [
      { body: JSON.stringify({ query: '{ hello }' }), expected: JSON.stringify({ data: { hello: 'world' } }) },
    ]);
    await bare.stop();

    const profileDirectory = process.env.BENCH_OVERHEAD_CPU_PROF;
    const off = await startService(database.url, {}, profileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`] : []);
    const catalogOff = await measure('this service: { modelCatalog { id } }, tracing off', off, catalogRequests);
    const organizationOff = await measure('this service: organization(id) { name effectiveModels {…} }, tracing off', off, organizationRequests);
    await off.stop();

    const tracedRuns: { sampling: string; env: Record<string, string> }[] = [
      { sampling: 'default sampling (parent-based, 1 in 10 roots)', env: {} },
      { sampling: 'every request sampled', env: { OTEL_TRACES_SAMPLER: 'parentbased_always_on' } },
    ];
    const traced: { sampling: string; catalog: LoadFigures; organization: LoadFigures }[] = [];
    for (const { sampling, env } of tracedRuns) {
      const on = await startService(database.url, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...env });
      const scraper = setInterval(() => void fetch(new URL('/metrics', on.url)).then((response) => response.text()).catch(() => undefined), 1_000);
      try {
        const catalog = await measure(`this service: { modelCatalog { id } }, tracing on, ${sampling}, /metrics every second`, on, catalogRequests);
        const organization = await measure(`this service: organization(id) {…}, tracing on, ${sampling}, /metrics every second`, on, organizationRequests);
        traced.push({ sampling, catalog, organization });
      } finally {
        clearInterval(scraper);
        await on.stop();
      }
    }

    printTable(
      `Overhead: ${CONNECTIONS} connections, ${SECONDS} s each after ${WARM_SECONDS} s of warm-up; autocannon in a process of its own, each server in its own; ` +
        `${MEMBERS} members of ${TREE.organizations} organizations in turn`,
      ['', 'req/s', 'p50', 'p99', 'requests', 'server CPU/req'],
      rows.map(({ label, figures, serverCpuPerRequest }) => [label, figures.rps.toFixed(0), ms(figures.p50), ms(figures.p99), figures.requests, ms(serverCpuPerRequest)]),
    );
    const ratio = (a: LoadFigures, b: LoadFigures) => a.rps / b.rps;
    const cpuOf = (figures: LoadFigures) => rows.find((row) => row.figures === figures)?.serverCpuPerRequest ?? Number.NaN;
    const catalogOfBare = ratio(catalogOff, bareFigures);
    const lines = [
      `modelCatalog ÷ bare: ${catalogOfBare.toFixed(2)} (goal ≥ ${TARGET_CATALOG_OF_BARE}): ${verdict(catalogOfBare >= TARGET_CATALOG_OF_BARE)}`,
      `effectiveModels ÷ bare: ${ratio(organizationOff, bareFigures).toFixed(2)}; effectiveModels ÷ modelCatalog: ${ratio(organizationOff, catalogOff).toFixed(2)}`,
    ];
    for (const { sampling, catalog, organization } of traced) {
      for (const [name, on, offFigures] of [
        ['modelCatalog', catalog, catalogOff],
        ['effectiveModels', organization, organizationOff],
      ] as const) {
        const cost = 1 - ratio(on, offFigures);
        lines.push(
          `${name} with tracing on (${sampling}) ÷ off: ${ratio(on, offFigures).toFixed(2)}, a cost of ${(cost * 100).toFixed(1)}% (goal ≤ ${TARGET_TRACING_COST * 100}%): ${verdict(cost <= TARGET_TRACING_COST)}`,
        );
      }
    }
    // On a shared machine req/s follows whatever else runs; the server's own CPU per request much less so.
    lines.push(
      `server CPU per request, bare ÷ modelCatalog (the req/s ratio a server would reach on a core of its own): ${(cpuOf(bareFigures) / cpuOf(catalogOff)).toFixed(2)} ` +
        `(goal ≥ ${TARGET_CATALOG_OF_BARE}): ${verdict(cpuOf(bareFigures) / cpuOf(catalogOff) >= TARGET_CATALOG_OF_BARE)}`,
    );
    for (const { sampling, catalog, organization } of traced) {
      for (const [name, on, offFigures] of [
        ['modelCatalog', catalog, catalogOff],
        ['effectiveModels', organization, organizationOff],
      ] as const) {
        const cost = 1 - cpuOf(offFigures) / cpuOf(on);
        lines.push(`server CPU per request, ${name} tracing off ÷ on (${sampling}): ${(1 - cost).toFixed(2)}, a cost of ${(cost * 100).toFixed(1)}%: ${verdict(cost <= TARGET_TRACING_COST)}`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\nspans received by the local receiver: ${receiver.count().toLocaleString('en')}\n`);
    if (profileDirectory) printProfile(profileDirectory);
    process.stdout.write(`overhead bench: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    load.stop();
    await receiver.close();
    await client.end();
    await database.drop();
  }
}
