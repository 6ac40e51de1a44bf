import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { healthOf } from '../../src/database/health';
import { createLogger } from '../../src/logger';
import { makeChain, makeMembership } from '../support/factories';
import { serverUrl } from '../support/database';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Database faults, end to end, against a real PostgreSQL: through a TCP proxy that cuts, refuses,
 * black-holes or slows every connection, and with a lock held from a second session. PGlite is one
 * session served one connection at a time, so neither a proxy fault of its own nor a second
 * session exists there: these run only with TEST_DATABASE_URL (or DATABASE_URL).
 */
const server = serverUrl();
const onServer = server ? describe : describe.skip;

/** Short bounds, so that each case takes a few seconds. */
const TIMEOUTS = {
  DATABASE_STATEMENT_TIMEOUT_MS: '1000',
  DATABASE_LOCK_TIMEOUT_MS: '300',
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1000',
  DATABASE_CONNECT_TIMEOUT_MS: '500',
  DATABASE_POOL_SIZE: '3',
};
/** The longest any request may wait: the read timeout (statement timeout + 1 s) and a connect timeout, and slack. */
const REQUEST_BOUND_MS = 1_000 + 1_000 + 500 + 700;
const READINESS_BOUND_MS = 1_500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
  codes: string[];
  data: unknown;
}

/** A whole request with its duration; the old code hangs, so every request is cut at 15 s. */
async function timed(url: string, init: RequestInit): Promise<Answer & { body: any }> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const body = await response.json();
  return {
    status: response.status,
    ms: performance.now() - started,
    retryAfter: response.headers.get('retry-after'),
    codes: (body.errors ?? []).map((error: { extensions?: { code?: string } }) => error.extensions?.code),
    data: body.data,
    body,
  };
}

onServer('database faults through a TCP proxy', () => {
  let proxy: TcpProxy;
  let service: TestServer;
  let memberToken: string;

  beforeAll(async () => {
    const target = new URL(server as string);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    service = await startTestServer(TIMEOUTS, { databaseUrl: (url) => proxy.url(url) });
    const [organization] = await makeChain(service.dataSource, 1, 'Faults');
    await makeMembership(service.dataSource, organization, 'fault-member');
    memberToken = await service.token('fault-member');
  });
  afterEach(async () => {
    await proxy?.restore();
    // Each case starts with the outage of the one before over (logged as such).
    const { outages } = healthOf(service.dataSource, createLogger('silent'));
    for (let waited = 0; outages.down && waited < 5_000; waited += 100) await sleep(100);
  });
  afterAll(async () => {
    await proxy?.restore();
    await service?.stop();
    await proxy?.close();
  });

  const base = () => service.url.replace(/\/graphql$/, '');
  /** Needs the database: the member's memberships and their organizations. */
  const ask = (requestId = randomUUID()) =>
    timed(service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${memberToken}`, 'x-request-id': requestId },
      body: JSON.stringify({ query: '{ viewer { organizations { name } } }' }),
    });
  const readyz = () => timed(`${base()}/readyz`, {});

  async function servesAgainWithin(ms: number): Promise<number> {
    const started = performance.now();
    for (;;) {
      const answer = await ask();
      if (answer.status === 200 && answer.codes.length === 0) return performance.now() - started;
      if (performance.now() - started > ms) throw new Error(`not serving ${ms} ms after the database came back: ${JSON.stringify(answer.body)}`);
      await sleep(100);
    }
  }

  const linesSince = (mark: number) => service.logs.slice(mark).filter((line) => !line.includes('"level":20'));

  function expectUnavailable(answers: Answer[]) {
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, retryAfter: '1', data: null });
      expect(answer.codes).toEqual(['SERVICE_UNAVAILABLE']);
    }
  }

  it('black-holed: no request waits past its timeouts, each gets 503 SERVICE_UNAVAILABLE with Retry-After, /readyz says so within a second, the log holds a line, and it serves again by itself', async () => {
    expect((await ask()).status).toBe(200);
    const mark = service.logs.length;
    proxy.blackhole();

    const [answers, readiness] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, () => ask())),
      sleep(200).then(readyz),
    ]);
    expectUnavailable(answers);
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(REQUEST_BOUND_MS);
    expect(readiness.status).toBe(503);
    expect(readiness.body).toEqual({ status: 'database timed out' });
    expect(readiness.ms).toBeLessThan(READINESS_BOUND_MS);

    // More requests, once the pool holds no connection that answers: each within the connect timeout.
    const later = await Promise.all(Array.from({ length: 30 }, () => ask()));
    expectUnavailable(later);
    expect(Math.max(...later.map((answer) => answer.ms))).toBeLessThan(REQUEST_BOUND_MS);

    const lines = linesSince(mark);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines.join('\n')).not.toMatch(/"stack"|\bat .*\.js:\d+/);
    expect(lines[0]).toMatch(/database unavailable/);

    await proxy.restore();
    expect(await servesAgainWithin(5_000)).toBeLessThan(5_000);
    expect((await readyz()).body).toEqual({ status: 'ready' });
  });

  it('down (connections reset, new ones refused): requests fail at once with 503, the first failure is logged at once, 200 failures make no more lines, recovery is logged once', async () => {
    expect((await ask()).status).toBe(200);
    const mark = service.logs.length;
    await proxy.down();

    const first = await ask();
    expectUnavailable([first]);
    expect(linesSince(mark).filter((line) => line.includes('database unavailable'))).toHaveLength(1);

    const answers: Answer[] = [];
    for (let batch = 0; batch < 20; batch += 1) answers.push(...(await Promise.all(Array.from({ length: 10 }, () => ask()))));
    expectUnavailable(answers);
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(1_000);
    const readiness = await readyz();
    expect(readiness.body).toEqual({ status: 'database unreachable' });
    expect(readiness.ms).toBeLessThan(READINESS_BOUND_MS);

    const during = linesSince(mark);
    expect(during.length).toBeLessThanOrEqual(3);
    expect(during.join('\n')).not.toMatch(/"stack"/);

    await proxy.restore();
    expect(await servesAgainWithin(3_000)).toBeLessThan(3_000);
    // The outage log looks for recovery once a second.
    for (let waited = 0; waited < 3_000 && !linesSince(mark).some((line) => line.includes('database available again')); waited += 100) await sleep(100);
    const recovered = linesSince(mark).filter((line) => line.includes('database available again'));
    expect(recovered).toHaveLength(1);
    expect(JSON.parse(recovered[0]).totalFailedRequests).toBeGreaterThanOrEqual(201);
    expect(linesSince(mark).length).toBeLessThanOrEqual(4);
  });

  it('every connection cut (as killing every backend): a handful of requests fail, as SERVICE_UNAVAILABLE, and the next ones are served', async () => {
    // Every pooled connection open and idle.
    await Promise.all(Array.from({ length: 6 }, () => ask()));
    proxy.cut();
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i += 1) answers.push(await ask());
    const failed = answers.filter((answer) => answer.status !== 200);
    expect(failed.length).toBeLessThanOrEqual(3);
    expectUnavailable(failed);
    expect(answers.slice(-10).every((answer) => answer.status === 200 && answer.codes.length === 0)).toBe(true);
  });

  it('slowed past the read timeout: requests get 503 within the bound; slowed a little: they are served', async () => {
    expect((await ask()).status).toBe(200);
    proxy.slow(2_500);
    const answers = await Promise.all(Array.from({ length: 5 }, () => ask()));
    expectUnavailable(answers);
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(REQUEST_BOUND_MS);
    proxy.slow(20);
    expect(await servesAgainWithin(5_000)).toBeLessThan(5_000);
  });
});

onServer('a lock held from a second session', () => {
  let service: TestServer;
  let memberToken: string;
  let operatorToken: string;
  let holder: Client;

  beforeAll(async () => {
    service = await startTestServer(TIMEOUTS);
    const [organization] = await makeChain(service.dataSource, 1, 'Locked');
    await makeMembership(service.dataSource, organization, 'lock-member');
    memberToken = await service.token('lock-member');
    operatorToken = await service.token('lock-operator', { operator: true });
    holder = new Client({ connectionString: service.databaseUrl });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.query('ROLLBACK').catch(() => undefined);
    await holder?.end();
    await service?.stop();
  });

  const post = (token: string, query: string, variables?: Record<string, unknown>) =>
    timed(service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  const needsOrganization = () => post(memberToken, '{ viewer { organizations { name } } }');

  it('gives SERVICE_UNAVAILABLE within the lock timeout to requests that need the table, serves the others, and /readyz stays fast', async () => {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE organization IN ACCESS EXCLUSIVE MODE');
    try {
      const mark = service.logs.length;
      const blocked = await Promise.all(Array.from({ length: 10 }, needsOrganization));
      for (const answer of blocked) {
        expect(answer).toMatchObject({ status: 503, retryAfter: '1', codes: ['SERVICE_UNAVAILABLE'] });
      }
      // Three connections, ten requests each waiting 300 ms at most for the lock (or 500 ms for a connection).
      expect(Math.max(...blocked.map((answer) => answer.ms))).toBeLessThan(2_000);
      expect(blocked[0].body.errors[0].message).toBe('The database did not answer in time; retry later');

      // A request that reads another table (runs) is served meanwhile.
      const other = await post(operatorToken, 'query ($id: ID!) { run(id: $id) { id } }', { id: randomUUID() });
      expect(other.codes).not.toContain('SERVICE_UNAVAILABLE');
      expect(other.ms).toBeLessThan(1_000);

      const ready = await timed(service.url.replace(/\/graphql$/, '/readyz'), {});
      expect(ready).toMatchObject({ status: 200, body: { status: 'ready' } });
      expect(ready.ms).toBeLessThan(500);

      const lines = service.logs.slice(mark).filter((line) => !line.includes('"msg":"request completed"'));
      expect(lines.length).toBeLessThanOrEqual(2);
      expect(lines[0]).toMatch(/database unavailable: lock timeout/);
    } finally {
      await holder.query('ROLLBACK');
    }
    const after = await needsOrganization();
    expect(after).toMatchObject({ status: 200, codes: [] });
  });
});
