import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { parseConfig } from '../../src/config';
import { closeUnansweredConnections, createDataSource, poolOf } from '../../src/database/data-source';
import { openDatabase } from '../../src/database/database';
import { EMBEDDED_POOL_SIZE } from '../../src/database/embedded-postgres';
import { databaseFault } from '../../src/database/faults';
import { createLogger } from '../../src/logger';
import { createTestDatabase, serverUrl, startEmbeddedTestDatabase } from '../support/database';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const onServer = serverUrl();

/** The error `work` rejects with; fails the test when it resolves. */
async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('it succeeded');
}

interface Kind {
  name: string;
  /** A data source as openDatabase makes the service's, with an idle-in-transaction timeout of `idleMs`. */
  open(idleMs: number): Promise<{ dataSource: DataSource; close(): Promise<void> }>;
}

const embedded: Kind = {
  name: 'the embedded database',
  async open(idleMs) {
    const db = await startEmbeddedTestDatabase({ idleInTransactionTimeoutMs: idleMs });
    const dataSource = createDataSource({ url: db.url, poolSize: EMBEDDED_POOL_SIZE, connectTimeoutMs: 2_000, readTimeoutMs: 3_000 });
    await dataSource.initialize();
    closeUnansweredConnections(poolOf(dataSource));
    return {
      dataSource,
      async close() {
        await dataSource.destroy();
        await db.stop();
      },
    };
  },
};

const postgres: Kind = {
  name: 'PostgreSQL',
  async open(idleMs) {
    const database = await createTestDatabase();
    const dataSource = createDataSource({
      url: database.url,
      poolSize: 2,
      connectTimeoutMs: 2_000,
      timeouts: { statementTimeoutMs: 2_000, lockTimeoutMs: 500, idleInTransactionTimeoutMs: idleMs },
    });
    await dataSource.initialize();
    closeUnansweredConnections(poolOf(dataSource));
    return {
      dataSource,
      async close() {
        await dataSource.destroy();
        await database.drop();
      },
    };
  },
};

describe.each(onServer ? [embedded, postgres] : [embedded])('a transaction left idle on $name', (kind) => {
  it('is ended after the idle-in-transaction timeout, rolled back, as a fault that is SERVICE_UNAVAILABLE, and the pool serves again', async () => {
    const { dataSource, close } = await kind.open(400);
    try {
      await dataSource.query('CREATE TABLE idle_probe (id int PRIMARY KEY)');
      const runner = dataSource.createQueryRunner();
      await runner.startTransaction();
      await runner.query('INSERT INTO idle_probe VALUES (1)');
      await sleep(900);
      const error = await failureOf(() => runner.query('SELECT 1'));
      expect(databaseFault(error)).toBeDefined();
      await runner.release();
      // A fresh connection: the insert was rolled back.
      expect(await dataSource.query('SELECT count(*)::int AS rows FROM idle_probe')).toEqual([{ rows: 0 }]);
    } finally {
      await close();
    }
  });

  it('is not ended while its statements keep coming', async () => {
    const { dataSource, close } = await kind.open(400);
    try {
      await dataSource.transaction(async (manager) => {
        for (let i = 0; i < 6; i += 1) {
          await manager.query('SELECT 1');
          await sleep(150);
        }
      });
    } finally {
      await close();
    }
  });
});

(onServer ? describe : describe.skip)('the timeouts on PostgreSQL', () => {
  const logger = createLogger('silent');
  const configFor = (url: string, env: Record<string, string> = {}) =>
    parseConfig({ NODE_ENV: 'test', DATABASE_URL: url, DATABASE_POOL_SIZE: '2', ...env });

  it('are set on every connection of the service, which cut a long statement at the statement timeout', async () => {
    const database = await createTestDatabase();
    const opened = await openDatabase(
      configFor(database.url, { DATABASE_STATEMENT_TIMEOUT_MS: '400', DATABASE_LOCK_TIMEOUT_MS: '150', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '3000' }),
      logger,
    );
    try {
      const settings = await opened.dataSource.query(
        `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock,
                current_setting('idle_in_transaction_session_timeout') AS idle`,
      );
      expect(settings).toEqual([{ statement: '400ms', lock: '150ms', idle: '3s' }]);
      const started = performance.now();
      const error = await failureOf(() => opened.dataSource.query('SELECT pg_sleep(3)'));
      expect(databaseFault(error)).toMatchObject({ reason: 'statement timeout', code: '57014' });
      expect(performance.now() - started).toBeLessThan(1_500);
      // DISCARD ALL or RESET ALL keep them: they are the session's defaults.
      await opened.dataSource.query('RESET ALL');
      expect(await opened.dataSource.query("SELECT current_setting('lock_timeout') AS lock")).toEqual([{ lock: '150ms' }]);
    } finally {
      await opened.close();
      await database.drop();
    }
  });

  it('do not cut migrations: the service waits for another instance migrating longer than its statement and lock timeouts', async () => {
    const database = await createTestDatabase();
    const MIGRATION_LOCK_KEY = 0x62796f6e;
    const other = new Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const started = performance.now();
      const opening = openDatabase(configFor(database.url, { DATABASE_STATEMENT_TIMEOUT_MS: '200', DATABASE_LOCK_TIMEOUT_MS: '100' }), logger);
      await sleep(1_000);
      await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      const opened = await opening;
      expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
      await opened.close();
    } finally {
      await other.end();
      await database.drop();
    }
  });
});
