import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { signDevToken } from '../../src/auth/dev-token';
import { MODEL_CATALOG, PLATFORM_DEFAULT, Provider } from '../../src/catalog/catalog';
import { KeyVault, parseKeyRing } from '../../src/connections/key-vault';
import { WALK, walkParameters } from '../../src/model-settings/model-settings.repository';
import { makeTestKey } from '../support/provider-stand-in';
import { TEST_ENCRYPTION_KEYS, TEST_JWT_SECRET } from '../support/test-server';
import { mb, ms, mulberry32, percentile, printTable, type ServerProcess, startServerProcess, timed, verdict } from './support';

/** The shape of a generated organization tree (generateTree). */
export interface TreeShape {
  organizations: number;
  roots: number;
  /** Roots with a chain of sub-organizations down to the deepest level. */
  deepChains: number;
  /** Levels of the tree, a root being level 1. */
  maxLevels: number;
}

/** This bench's tree: 5,000 organizations under 50 roots, 25 chains down to level 20. */
const TREE: TreeShape = { organizations: 5_000, roots: 50, deepChains: 25, maxLevels: 20 };
const { organizations: ORGANIZATIONS, roots: ROOTS } = TREE;
/** Organizations the HTTP load asks about, each with a member of its own. */
const LOAD_SAMPLE = 500;
const CONNECTIONS = 10;
const WARM_SECONDS = 2;
const ROUND_SECONDS = 6;
const ROUNDS = 2;
const ENTITIES = 1_000;
const ENTITY_RUNS = 30;
const ENTITY_WARM_RUNS = 5;
const STATEMENT_TARGET = 4;

export const EFFECTIVE_SELECTION = 'effectiveModels { primary { model { id } } fallback { model { id } } source availableModels { model { id } } }';
export const ORGANIZATION_QUERY = `query($id: ID!) { organization(id: $id) { ${EFFECTIVE_SELECTION} } }`;
const CATALOG_QUERY = '{ modelCatalog { id } }';
const ENTITIES_QUERY = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { ${EFFECTIVE_SELECTION} } } }`;

interface Settings {
  primaryModelId: string;
  fallbackModelId: string | null;
  exclusive: boolean;
  offerToSubOrganizations: boolean;
}

export interface TreeNode {
  id: string;
  parent: number | null;
  level: number;
  settings: Settings | null;
  providers: Provider[];
}

export interface Expected {
  primary: { model: { id: string } };
  fallback: { model: { id: string } } | null;
  source: 'OWN' | 'INHERITED' | 'PLATFORM';
  availableModels: { model: { id: string } }[];
}


/**
 * `shape.organizations` organizations under `shape.roots` roots (by default this bench's 5,000
 * under 50), `deepChains` of them with a chain down to level `maxLevels` and the rest attached at
 * random below any organization above that level. Roots mostly offer their settings; about one
 * organization in eight below has settings of its own, half of those offering them.
 */
export function generateTree(random: () => number, shape: TreeShape = TREE): TreeNode[] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const nodes: TreeNode[] = [];
  const add = (parent: number | null) => {
    nodes.push({ id: randomUUID(), parent, level: parent === null ? 1 : nodes[parent].level + 1, settings: null, providers: [] });
    return nodes.length - 1;
  };
  for (let root = 0; root < shape.roots; root += 1) add(null);
  for (let chain = 0; chain < shape.deepChains; chain += 1) {
    let parent = chain;
    for (let level = 2; level <= shape.maxLevels; level += 1) parent = add(parent);
  }
  while (nodes.length < shape.organizations) {
    const parent = Math.floor(random() * nodes.length);
    if (nodes[parent].level < shape.maxLevels) add(parent);
  }
  const hasChildren = new Set(nodes.map((node) => node.parent));
  for (const [index, node] of nodes.entries()) {
    const draw = random();
    const own = node.parent === null ? draw < 0.6 : draw < 0.12;
    if (own) {
      const primary = pick(MODEL_CATALOG);
      const fallback = random() < 0.7 ? pick(MODEL_CATALOG.filter((model) => model.id !== primary.id)) : null;
      node.settings = {
        primaryModelId: primary.id,
        fallbackModelId: fallback?.id ?? null,
        exclusive: random() < 0.25,
        offerToSubOrganizations: hasChildren.has(index) && (node.parent === null || random() < 0.5),
      };
      const providers = new Set([primary.provider, ...(fallback ? [fallback.provider] : [])]);
      if (random() < 0.2) providers.add(pick([Provider.ANTHROPIC, Provider.OPENAI]));
      node.providers = [...providers];
    } else if (random() < 0.05) {
      node.providers = [pick([Provider.ANTHROPIC, Provider.OPENAI])];
    }
  }
  return nodes;
}

/** The inheritance rule, written out again as the benchmark's oracle. */
export function expectedEffective(nodes: TreeNode[], index: number): Expected {
  const option = (id: string) => ({ model: { id } });
  const withPlatform = (ids: string[], exclusive: boolean) =>
    (exclusive ? ids : [...ids, ...MODEL_CATALOG.map((model) => model.id).filter((id) => !ids.includes(id))]).map(option);
  const node = nodes[index];
  if (node.settings) {
    const own = MODEL_CATALOG.filter((model) => node.providers.includes(model.provider)).map((model) => model.id);
    const { primaryModelId, fallbackModelId, exclusive } = node.settings;
    return { primary: option(primaryModelId), fallback: fallbackModelId ? option(fallbackModelId) : null, source: 'OWN', availableModels: withPlatform(own, exclusive) };
  }
  for (let ancestor = node.parent; ancestor !== null; ancestor = nodes[ancestor].parent) {
    const settings = nodes[ancestor].settings;
    if (settings?.offerToSubOrganizations) {
      const ids = [settings.primaryModelId, ...(settings.fallbackModelId ? [settings.fallbackModelId] : [])];
      return {
        primary: option(settings.primaryModelId),
        fallback: settings.fallbackModelId ? option(settings.fallbackModelId) : null,
        source: 'INHERITED',
        availableModels: withPlatform(ids, settings.exclusive),
      };
    }
  }
  return {
    primary: option(PLATFORM_DEFAULT.primaryModelId),
    fallback: option(PLATFORM_DEFAULT.fallbackModelId),
    source: 'PLATFORM',
    availableModels: withPlatform([], false),
  };
}

/** Writes the tree with one set-based statement per table. */
export async function insertTree(client: Client, nodes: TreeNode[], members: { organizationId: string; userId: string }[]): Promise<void> {
  await client.query(
    `INSERT INTO organization (id, name, parent_id) SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[])`,
    [nodes.map((node) => node.id), nodes.map((_, index) => `Bench ${index}`), nodes.map((node) => (node.parent === null ? null : nodes[node.parent].id))],
  );
  const withSettings = nodes.filter((node) => node.settings);
  await client.query(
    `INSERT INTO model_settings (organization_id, primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, version, updated_by)
     SELECT organization_id, primary_model_id, fallback_model_id, exclusive, offer, 1, 'bench'
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[], $5::boolean[]) AS s (organization_id, primary_model_id, fallback_model_id, exclusive, offer)`,
    [
      withSettings.map((node) => node.id),
      withSettings.map((node) => node.settings?.primaryModelId),
      withSettings.map((node) => node.settings?.fallbackModelId),
      withSettings.map((node) => node.settings?.exclusive),
      withSettings.map((node) => node.settings?.offerToSubOrganizations),
    ],
  );
  const vault = new KeyVault(parseKeyRing(TEST_ENCRYPTION_KEYS));
  const connections = nodes.flatMap((node) =>
    node.providers.map((provider) => {
      const id = randomUUID();
      return { id, organizationId: node.id, provider, sealed: vault.encrypt(makeTestKey(provider), { organizationId: node.id, connectionId: id, provider }) };
    }),
  );
  await client.query(
    `INSERT INTO provider_connection (id, organization_id, provider, encrypted_key, key_hint, status, last_verified_at)
     SELECT id, organization_id, provider::provider, encrypted_key, '…test', 'VERIFIED', now()
     FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS r (id, organization_id, provider, encrypted_key)`,
    [connections.map((c) => c.id), connections.map((c) => c.organizationId), connections.map((c) => c.provider), connections.map((c) => c.sealed)],
  );
  await client.query(
    `INSERT INTO membership (organization_id, user_id, role) SELECT organization_id, user_id, 'MEMBER' FROM unnest($1::uuid[], $2::text[]) AS m (organization_id, user_id)`,
    [members.map((m) => m.organizationId), members.map((m) => m.userId)],
  );
  await client.query('ANALYZE');
}

/** CPU time used so far, ms: the server process, its PostgreSQL backends, and the benchmark's own backend. */
export interface CpuSnapshot {
  server: number;
  postgres: number | null;
  benchBackend: number | null;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** A PostgreSQL backend's CPU time in clock ticks, from /proc; null when it is not a local postgres process. */
function backendTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (!stat.includes('(postgres)')) return null;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return null;
  }
}

/**
 * CPU time of the server process (it reports its own) and of the PostgreSQL backends of the
 * server's database, read from /proc (null when PostgreSQL is not on this machine). Backends are
 * sampled every second on a connection of the meter's own, so that one the pool closes takes
 * (almost) none of its time with it. `benchPid` is the benchmark's own backend, counted apart.
 */
export async function cpuMeter(server: ServerProcess, benchPid: number): Promise<{ snapshot: () => Promise<CpuSnapshot>; close: () => Promise<void> }> {
  const meter = new Client({ connectionString: server.databaseUrl });
  await meter.connect();
  const last = new Map<number, number>();
  let local = true;
  let first = true;
  let postgres = 0;
  let benchBackend = 0;
  let sampling: Promise<void> = Promise.resolve();
  const sample = () => {
    const run = async () => {
      const { rows } = await meter.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      for (const { pid } of rows) {
        const ticks = backendTicks(pid);
        if (ticks === null) {
          local = false;
          continue;
        }
        const used = first ? 0 : ticks - (last.get(pid) ?? 0);
        last.set(pid, ticks);
        if (pid === benchPid) benchBackend += used;
        else postgres += used;
      }
      first = false;
    };
    sampling = sampling.then(run, run);
    return sampling;
  };
  await sample();
  const timer = setInterval(() => void sample().catch(() => undefined), 1_000);
  const toMs = (ticks: number) => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  return {
    async snapshot() {
      await sample();
      return { server: (await server.stats()).cpuMs, postgres: local ? toMs(postgres) : null, benchBackend: local ? toMs(benchBackend) : null };
    },
    async close() {
      clearInterval(timer);
      await sampling.catch(() => undefined);
      await meter.end();
    },
  };
}

export const cpuDelta = (before: CpuSnapshot, after: CpuSnapshot) => ({
  server: after.server - before.server,
  postgres: before.postgres === null || after.postgres === null ? null : after.postgres - before.postgres,
  benchBackend: before.benchBackend === null || after.benchBackend === null ? null : after.benchBackend - before.benchBackend,
});

const perRequest = (total: number | null, requests: number) => (total === null ? '-' : ms(total / requests));

interface LoadResult {
  requests: number;
  seconds: number;
  latencies: number[];
  cpu: ReturnType<typeof cpuDelta>;
}

interface LoadRequest {
  body: string;
  authorization: string;
  /** The exact response body expected. */
  expected: string;
}

/**
 * One autocannon run of POST requests at CONNECTIONS connections, the n-th request being
 * `nth(n)`; every response must be exactly the one expected, else this throws.
 */
async function load(server: ServerProcess, meter: () => Promise<CpuSnapshot>, seconds: number, nth: (n: number) => LoadRequest): Promise<LoadResult> {
  let next = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  const before = await meter();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.url,
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
              if (status === 200 && body.trimEnd() === context.expected) return;
              failures += 1;
              firstFailure ??= `HTTP ${status}: expected ${String(context.expected)}, got ${body.slice(0, 500)}`;
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  const after = await meter();
  if (result.errors > 0 || result.non2xx > 0 || failures > 0) {
    throw new Error(`the benchmark's requests failed: ${result.errors} errors, ${result.non2xx} non-2xx, ${failures} wrong answers; first: ${firstFailure}`);
  }
  return { requests: latencies.length, seconds: result.duration, latencies, cpu: cpuDelta(before, after) };
}

function merged(results: LoadResult[]) {
  const latencies = results.flatMap((result) => result.latencies).sort((a, b) => a - b);
  const requests = results.reduce((sum, result) => sum + result.requests, 0);
  const seconds = results.reduce((sum, result) => sum + result.seconds, 0);
  const server = results.reduce((sum, result) => sum + result.cpu.server, 0);
  const postgres = results.some((result) => result.cpu.postgres === null) ? null : results.reduce((sum, result) => sum + (result.cpu.postgres ?? 0), 0);
  return {
    rps: requests / seconds,
    rounds: results.map((result) => (result.requests / result.seconds).toFixed(0)).join(' / '),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    requests,
    serverCpu: perRequest(server, requests),
    postgresCpu: perRequest(postgres, requests),
  };
}

/**
 * Effective models on a generated tree of 5,000 organizations, the server in a process of its
 * own: (1) organization(id) { effectiveModels } under load beside modelCatalog (no database);
 * (2) _entities with 1,000 organizations beside the loader's bare statement through pg;
 * (3) statements per _entities request for 1, 100 and 1,000 organizations; (4) the server's RSS.
 */
export async function benchEffectiveModels(): Promise<void> {
  const started = performance.now();
  const server = await startServerProcess({ LOG_LEVEL: 'warn' });
  const client = new Client({ connectionString: server.databaseUrl });
  await client.connect();
  let closeMeter: () => Promise<void> = async () => undefined;
  try {
    const random = mulberry32(0x62796f6d);
    const nodes = generateTree(random);
    const expected = nodes.map((_, index) => expectedEffective(nodes, index));
    const shuffled = nodes.map((_, index) => index);
    for (let i = shuffled.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const loadSample = shuffled.slice(0, LOAD_SAMPLE);
    const entitySample = shuffled.slice(LOAD_SAMPLE, LOAD_SAMPLE + ENTITIES);
    const memberOfAll = 'bench-member-of-1000';
    const members = [
      ...loadSample.map((index, n) => ({ organizationId: nodes[index].id, userId: `bench-user-${n}` })),
      ...entitySample.map((index) => ({ organizationId: nodes[index].id, userId: memberOfAll })),
    ];
    const seeding = await timed(() => insertTree(client, nodes, members));
    const cpu = await cpuMeter(server, (client as unknown as { processID: number }).processID);
    closeMeter = cpu.close;
    const meter = cpu.snapshot;

    const sources = (indexes: number[]) => {
      const count = (source: Expected['source']) => indexes.filter((index) => expected[index].source === source).length;
      return `${count('OWN')} own, ${count('INHERITED')} inherited, ${count('PLATFORM')} platform`;
    };
    const levels = nodes.map((node) => node.level);
    process.stdout.write(
      `\nEffective models: ${ORGANIZATIONS.toLocaleString('en')} organizations under ${ROOTS} roots, levels 1-${Math.max(...levels)} ` +
        `(mean ${(levels.reduce((a, b) => a + b, 0) / levels.length).toFixed(1)}), ${nodes.filter((node) => node.settings).length} with settings of their own, ` +
        `${nodes.reduce((sum, node) => sum + node.providers.length, 0)} provider connections; effective: ${sources(nodes.map((_, index) => index))}; ` +
        `inserted in ${ms(seeding)}.\nThe server runs in a process of its own (RSS and "server CPU" are its alone); autocannon and pg run in the benchmark's. ` +
        `"PostgreSQL CPU" is that of the server's backends (of the benchmark's own for the bare statement).\n`,
    );

    // (1) organization(id) { effectiveModels } beside modelCatalog; each request by a member of the organization it asks about.
    const tokens = await Promise.all(loadSample.map((_, n) => signDevToken(TEST_JWT_SECRET, { sub: `bench-user-${n}` })));
    const organizationRequests: LoadRequest[] = loadSample.map((index, n) => ({
      body: JSON.stringify({ query: ORGANIZATION_QUERY, variables: { id: nodes[index].id } }),
      authorization: `Bearer ${tokens[n]}`,
      expected: JSON.stringify({ data: { organization: { effectiveModels: expected[index] } } }),
    }));
    const catalogBody = JSON.stringify({ query: CATALOG_QUERY });
    const catalogExpected = JSON.stringify({ data: { modelCatalog: MODEL_CATALOG.map((model) => ({ id: model.id })) } });
    const catalogRequests: LoadRequest[] = tokens.map((token) => ({ body: catalogBody, authorization: `Bearer ${token}`, expected: catalogExpected }));
    const effectiveRun = (seconds: number) => load(server, meter, seconds, (n) => organizationRequests[n % LOAD_SAMPLE]);
    const catalogRun = (seconds: number) => load(server, meter, seconds, (n) => catalogRequests[n % LOAD_SAMPLE]);

    const idle = await server.resetPeak();
    await catalogRun(WARM_SECONDS);
    await effectiveRun(WARM_SECONDS);
    const catalogResults: LoadResult[] = [];
    const effectiveResults: LoadResult[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      catalogResults.push(await catalogRun(ROUND_SECONDS));
      effectiveResults.push(await effectiveRun(ROUND_SECONDS));
    }
    const afterLoad = await server.resetPeak();
    const catalogLoad = merged(catalogResults);
    const effectiveLoad = merged(effectiveResults);
    const throughputRatio = effectiveLoad.rps / catalogLoad.rps;
    printTable(
      `(1) organization(id) { effectiveModels } beside modelCatalog over HTTP: ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s ` +
        `after ${WARM_SECONDS} s of warm-up each; ${LOAD_SAMPLE} organizations in turn (${sources(loadSample)}), each asked by a member of it (a user per organization)`,
      ['', 'req/s', 'per round', 'p50', 'p99', 'requests', 'server CPU/req', 'PostgreSQL CPU/req'],
      (
        [
          ['{ modelCatalog { id } } (no database)', catalogLoad],
          ['organization(id) { effectiveModels {…} }', effectiveLoad],
        ] as const
      ).map(([label, f]) => [label, f.rps.toFixed(0), f.rounds, ms(f.p50), ms(f.p99), f.requests, f.serverCpu, f.postgresCpu]),
    );
    process.stdout.write(`effectiveModels req/s ÷ modelCatalog req/s: ${throughputRatio.toFixed(2)} (target ≥ 0.5): ${verdict(throughputRatio >= 0.5)}\n`);

    // (2) _entities with 1,000 organizations beside the loader's own statement through pg, alternating.
    const operatorId = 'bench-operator';
    const operatorToken = await signDevToken(TEST_JWT_SECRET, { sub: operatorId, operator: true });
    const memberToken = await signDevToken(TEST_JWT_SECRET, { sub: memberOfAll });
    /** One _entities request; throws unless the answer is exactly the one expected. */
    const entities = async (indexes: number[], token: string) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: ENTITIES_QUERY, variables: { r: indexes.map((index) => ({ __typename: 'Organization', id: nodes[index].id })) } }),
      });
      const text = await response.text();
      return () => {
        const wanted = JSON.stringify({ data: { _entities: indexes.map((index) => ({ effectiveModels: expected[index] })) } });
        if (response.status !== 200 || text.trimEnd() !== wanted) throw new Error(`_entities answered wrongly (HTTP ${response.status}): ${text.slice(0, 500)}`);
      };
    };
    const ids = entitySample.map((index) => nodes[index].id);
    const bareSql = () => client.query(WALK.text, walkParameters(ids, operatorId));
    for (let warm = 0; warm < ENTITY_WARM_RUNS; warm += 1) {
      (await entities(entitySample, operatorToken))();
      await bareSql();
    }
    const entityTimes: number[] = [];
    const sqlTimes: number[] = [];
    let sqlRows = 0;
    const checks: (() => void)[] = [];
    const entitiesBefore = await meter();
    for (let run = 0; run < ENTITY_RUNS; run += 1) {
      entityTimes.push(await timed(async () => checks.push(await entities(entitySample, operatorToken))));
      sqlTimes.push(await timed(async () => (sqlRows = (await bareSql()).rowCount ?? 0)));
    }
    const entitiesCpu = cpuDelta(entitiesBefore, await meter());
    for (const check of checks) check();
    for (const times of [entityTimes, sqlTimes]) times.sort((a, b) => a - b);
    const latencyRatio = percentile(entityTimes, 50) / percentile(sqlTimes, 50);
    printTable(
      `(2) _entities with ${ENTITIES.toLocaleString('en')} Organization representations (${sources(entitySample)}) beside the loader's statement alone, ` +
        `${ENTITY_RUNS} sequential runs each, alternating (after ${ENTITY_WARM_RUNS} of warm-up)`,
      ['', 'p50', 'p99', 'runs', 'server CPU/req', 'PostgreSQL CPU/req'],
      [
        [
          '_entities { ... on Organization { effectiveModels {…} } } over HTTP, as the operator',
          ms(percentile(entityTimes, 50)),
          ms(percentile(entityTimes, 99)),
          ENTITY_RUNS,
          perRequest(entitiesCpu.server, ENTITY_RUNS),
          perRequest(entitiesCpu.postgres, ENTITY_RUNS),
        ],
        [`the walk statement (WALK) through pg (${sqlRows.toLocaleString('en')} rows)`, ms(percentile(sqlTimes, 50)), ms(percentile(sqlTimes, 99)), ENTITY_RUNS, '-', perRequest(entitiesCpu.benchBackend, ENTITY_RUNS)],
      ],
    );
    process.stdout.write(
      `_entities p50 ÷ bare statement p50: ${latencyRatio.toFixed(2)} (target ≤ 3): ${verdict(latencyRatio <= 3)}; ` +
        `p99 ÷ p99: ${(percentile(entityTimes, 99) / percentile(sqlTimes, 99)).toFixed(2)}\n`,
    );

    // (3) statements per _entities request: the same for 1, 100 and 1,000 organizations.
    const statementRows: (string | number)[][] = [];
    const columns: number[][] = [[], []];
    for (const size of [1, 100, ENTITIES]) {
      const some = entitySample.slice(0, size);
      const row: (string | number)[] = [`${size.toLocaleString('en')} organization${size === 1 ? '' : 's'}`];
      for (const [column, token] of [operatorToken, memberToken].entries()) {
        const before = (await server.stats()).statements;
        const check = await entities(some, token);
        const statements = (await server.stats()).statements - before;
        check();
        columns[column].push(statements);
        row.push(statements);
      }
      statementRows.push(row);
    }
    const afterEntities = await server.stats();
    printTable(
      '(3) SQL statements per _entities request (effectiveModels of each organization)',
      ['', 'as the operator', `as a member of all ${ENTITIES.toLocaleString('en')}`],
      statementRows,
    );
    const constant = columns.every((counts) => counts.every((count) => count === counts[0] && count <= STATEMENT_TARGET));
    process.stdout.write(`the same for 1, 100 and 1,000, and ≤ ${STATEMENT_TARGET}: ${verdict(constant)}\n`);
    if (!constant) throw new Error(`statements per _entities request are not constant and at most ${STATEMENT_TARGET}: ${JSON.stringify(statementRows)}`);

    // (4) the server's memory.
    printTable('(4) Server process RSS (its own process: the load generator is not in it)', ['', 'RSS'], [
      ['idle, after start-up and seeding', mb(idle.rss)],
      ['peak during (1), sampled every 25 ms', mb(afterLoad.peakRss)],
      ['peak during (2) and (3), sampled every 25 ms', mb(afterEntities.peakRss)],
      ['high-water mark of the whole process (kernel)', mb(afterEntities.maxRss)],
      ['at the end (of which V8 heap in use)', `${mb(afterEntities.rss)} (${mb(afterEntities.heapUsed)})`],
    ]);
    process.stdout.write(`effective-models bench: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    await closeMeter();
    await client.end();
    await server.stop();
  }
}
