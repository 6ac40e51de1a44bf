import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { type EmbeddedPostgres, EMBEDDED_POOL_SIZE } from '../../src/database/embedded-postgres';
import { preparedQuery } from '../../src/database/prepared';
import { databaseUrl, dropDatabase, serverUrl, startEmbeddedTestDatabase, withClient } from '../support/database';

/**
 * What a `pg` client believes of its session must hold on both kinds of database: on PGlite
 * every connection shares one session, so the service resets it between connections.
 */
interface Kind {
  name: string;
  open(): Promise<{ url: string; poolSize: number; close(): Promise<void> }>;
}

const embedded: Kind = {
  name: 'the embedded database',
  async open() {
    const db: EmbeddedPostgres = await startEmbeddedTestDatabase();
    return { url: db.url, poolSize: EMBEDDED_POOL_SIZE, close: () => db.stop() };
  },
};

const onServer = serverUrl();
const postgres: Kind = {
  name: 'PostgreSQL',
  async open() {
    const server = onServer as string;
    const name = `byom_test_session_${process.pid}_${Math.random().toString(16).slice(2, 10)}`;
    await withClient(server, (client) => client.query(`CREATE DATABASE ${name}`));
    return { url: databaseUrl(server, name), poolSize: 2, close: () => dropDatabase(server, name) };
  },
};

const kinds = onServer ? [embedded, postgres] : [embedded];
const PLUS_ONE = { name: 'byom_test_plus_one', text: 'SELECT $1::int + 1 AS value' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `work` on a DataSource of its own on `database`, with that pool idle timeout (undefined: pg-pool's default). */
async function withDataSourceOn<T>(
  database: { url: string; poolSize: number },
  idleTimeoutMs: number | undefined,
  work: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const dataSource = createDataSource({ url: database.url, poolSize: database.poolSize, idleTimeoutMs });
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

describe.each(kinds)('a session on $name', (kind) => {
  let database: Awaited<ReturnType<Kind['open']>>;
  beforeAll(async () => {
    database = await kind.open();
  });
  afterAll(async () => {
    await database?.close();
  });

  const withDataSource = <T>(idleTimeoutMs: number, work: (dataSource: DataSource) => Promise<T>) => withDataSourceOn(database, idleTimeoutMs, work);

  it('runs prepared statements again after the pool closed its idle connection', async () => {
    await withDataSource(100, async (dataSource) => {
      expect(await preparedQuery(dataSource, PLUS_ONE, [1])).toEqual([{ value: 2 }]);
      await sleep(400);
      expect(await preparedQuery(dataSource, PLUS_ONE, [41])).toEqual([{ value: 42 }]);
    });
  });

  it('keeps its idle connection for the default idle timeout (10 s), then closes it, and the next statement is served', async () => {
    // The pool's own clock, moved on: ten seconds of idling without waiting them (the smoke test
    // of .ci/run waits them, on the service).
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date', 'hrtime', 'performance'] });
    try {
      await withDataSourceOn(database, undefined, async (dataSource) => {
        const pool = (dataSource.driver as unknown as { master: { totalCount: number; idleCount: number } }).master;
        expect(await preparedQuery(dataSource, PLUS_ONE, [1])).toEqual([{ value: 2 }]);
        expect(pool.idleCount).toBe(1);
        jest.advanceTimersByTime(9_999);
        expect(pool.totalCount).toBe(1);
        jest.advanceTimersByTime(1);
        expect(pool.totalCount).toBe(0);
        // The next statement, on a new connection, prepares the same name again.
        expect(await preparedQuery(dataSource, PLUS_ONE, [2])).toEqual([{ value: 3 }]);
        jest.useRealTimers();
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it("does not carry one connection's SET into the next", async () => {
    await withDataSource(100, async (dataSource) => {
      await dataSource.query("SET statement_timeout = '4321ms'");
      expect(await dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '4321ms' }]);
      await sleep(400);
      expect(await dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '0' }]);
    });
  });

  it('leaves no open transaction, lock or row behind a client that went away in a transaction', async () => {
    await withClient(database.url, (client) => client.query('CREATE TABLE IF NOT EXISTS session_probe (id int PRIMARY KEY)'));
    const dropped = new Client({ connectionString: database.url });
    dropped.on('error', () => undefined);
    await dropped.connect();
    await dropped.query('BEGIN');
    await dropped.query('INSERT INTO session_probe VALUES (1)');
    await dropped.query('LOCK TABLE session_probe IN ACCESS EXCLUSIVE MODE');
    await dropped.query('SELECT pg_advisory_lock(4242)');
    // The socket goes, with no Terminate message and no ROLLBACK.
    (dropped as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await sleep(200);

    await withClient(database.url, async (client) => {
      await client.query("SET lock_timeout = '2s'");
      const { rows } = await client.query(
        `SELECT txid_current_if_assigned() AS transaction, (SELECT count(*)::int FROM session_probe) AS rows,
                pg_try_advisory_lock(4242) AS advisory_free`,
      );
      expect(rows).toEqual([{ transaction: null, rows: 0, advisory_free: true }]);
      await client.query('BEGIN');
      await client.query('LOCK TABLE session_probe IN ACCESS EXCLUSIVE MODE NOWAIT');
      await client.query('ROLLBACK');
    });
  });
});

describe('the embedded database', () => {
  it('serves connections one after another, each with the whole session', async () => {
    const db = await startEmbeddedTestDatabase();
    try {
      const clients = [1, 2, 3].map(() => new Client({ connectionString: db.url }));
      // Three connect at once: they wait their turn instead of being refused.
      const answers = clients.map(async (client, index) => {
        await client.connect();
        const { rows } = await client.query({ name: 'same_name', text: `SELECT ${index}::int AS n` });
        await client.end();
        return rows[0].n;
      });
      expect(await Promise.all(answers)).toEqual([0, 1, 2]);
    } finally {
      await db.stop();
    }
  });
});
