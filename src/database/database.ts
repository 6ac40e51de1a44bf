import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { closeUnansweredConnections, createDataSource, poolOf, READ_TIMEOUT_MARGIN_MS } from './data-source';
import { EMBEDDED_POOL_SIZE, type EmbeddedServer, embeddedDataDir, startEmbedded } from './embedded-thread';
import { databaseFault } from './faults';
import { answers, attachHealth, type DatabaseHealth } from './health';
import { OutageLog } from './outage-log';
import { createReadinessCheck } from './readiness';
import { SqlLogger } from './sql-logger';

export interface Database {
  dataSource: DataSource;
  sqlLogger: SqlLogger;
  /** Readiness and the outage log (also attached to the data source for the server: healthOf). */
  health: DatabaseHealth;
  /** Where it runs, for the start-up log: never carries a password. */
  description: string;
  close(): Promise<void>;
}

/** Serializes migrations between instances that start at the same time. */
const MIGRATION_LOCK_KEY = 0x62796f6e;

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL under the data directory, applies
 * pending migrations, then opens the service's pool.
 *
 * The service's connections carry the configured statement, lock and idle-in-transaction
 * timeouts (PostgreSQL applies them from the startup parameters; the embedded server enforces the
 * idle one itself), a bounded wait for a pooled connection, and a read timeout past which a
 * connection whose statement got no answer is dropped. Migrations run before, on connections of
 * their own without the statement and lock timeouts: a long migration is not cut, and one
 * instance waits for another's migration lock as long as that one migrates.
 */
export interface OpenOptions {
  /**
   * Connections are opened only once this settles. Start-up gives the moment its modules have
   * loaded: loading them blocks the event loop for seconds on a busy machine, and a connection
   * begun before would count that time against DATABASE_CONNECT_TIMEOUT_MS (and, embedded, could
   * not even be answered). The embedded database itself starts at once: PGlite compiles its
   * WebAssembly off the main thread meanwhile.
   */
  connectAfter?: Promise<unknown>;
  /**
   * The embedded database, started already (start-up starts it before it loads the modules that
   * openDatabase needs); started here otherwise. Unused with DATABASE_URL.
   */
  embedded?: Promise<EmbeddedServer>;
}

export async function openDatabase(config: Config, logger: Logger, { connectAfter, embedded: started }: OpenOptions = {}): Promise<Database> {
  const sqlLogger = new SqlLogger(logger.child({ component: 'sql' }));
  const { statementTimeoutMs, lockTimeoutMs, idleInTransactionTimeoutMs, connectTimeoutMs } = config.databaseTimeouts;
  const embedded = config.databaseUrl ? undefined : await (started ?? startEmbedded(config));
  const url = config.databaseUrl ?? (embedded as { url: string }).url;
  const poolSize = embedded ? EMBEDDED_POOL_SIZE : config.databasePoolSize;
  let outages: OutageLog | undefined;
  const dataSource = createDataSource({
    url,
    poolSize,
    idleTimeoutMs: config.databaseIdleTimeoutMs,
    connectTimeoutMs,
    // PGlite ignores startup parameters (and its idle-in-transaction timeout wedges it).
    timeouts: embedded ? undefined : { statementTimeoutMs, lockTimeoutMs, idleInTransactionTimeoutMs },
    readTimeoutMs: statementTimeoutMs + READ_TIMEOUT_MARGIN_MS,
    logger: sqlLogger,
    onPoolError: (error) => outages?.record(databaseFault(error) ?? { kind: 'unreachable', reason: error.message }, 'connection'),
  });
  try {
    await connectAfter;
    const applied = await migrateOnConnectionsOfTheirOwn(url, Math.min(poolSize, 2), connectTimeoutMs, sqlLogger);
    // What an upgrade changed in the database, once, where an operator reads it.
    if (applied.length > 0) logger.info({ migrations: applied }, `database: ${applied.length === 1 ? '1 migration' : `${applied.length} migrations`} applied`);
    await dataSource.initialize();
    closeUnansweredConnections(poolOf(dataSource));
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
  // A connection of its own, unless the service is meant to hold one connection only (the
  // embedded database, or DATABASE_POOL_SIZE=1, as the tests give an embedded database by URL):
  // a second one would wait behind it.
  const readiness = createReadinessCheck({ dataSource, url: poolSize > 1 ? url : undefined });
  outages = new OutageLog({ logger: logger.child({ component: 'database' }), probe: () => answers(readiness) });
  const health = { readiness, outages };
  attachHealth(dataSource, health);
  return {
    dataSource,
    sqlLogger,
    health,
    description: embedded
      ? `embedded PostgreSQL (PGlite), data in ${embeddedDataDir(config)}`
      : `PostgreSQL at ${redactUrl(config.databaseUrl as string)}`,
    async close() {
      outages?.close();
      await readiness.close();
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

/** Applies the pending migrations (migrate) on a data source of their own; the names of those it applied. */
async function migrateOnConnectionsOfTheirOwn(url: string, poolSize: number, connectTimeoutMs: number, logger: SqlLogger): Promise<string[]> {
  const dataSource = createDataSource({ url, poolSize, connectTimeoutMs, logger, applicationName: 'byom-subgraph migrations' });
  await dataSource.initialize();
  try {
    // The lock needs a connection of its own besides the migrating one.
    return await migrate(dataSource, { lock: poolSize > 1 });
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Applies pending migrations, each in its own transaction, and answers the names of those it
 * applied (none when another instance had applied them). With `lock`, a session-level advisory
 * lock keeps two instances from migrating at once (a pool of one connection, as the embedded
 * database has, cannot hold it and is one process anyway).
 */
export async function migrate(dataSource: DataSource, { lock }: { lock: boolean }): Promise<string[]> {
  const applied = async () => (await dataSource.runMigrations({ transaction: 'each' })).map((migration) => migration.name);
  if (!lock) return applied();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await applied();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}

export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
