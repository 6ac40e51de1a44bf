import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../../src/database/data-source';
import { migrate } from '../../src/database/database';
import { EMBEDDED_POOL_SIZE, type EmbeddedPostgres, type EmbeddedPostgresOptions, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { DATABASES_DIR_ENV, EMBEDDED_TEMPLATE_ENV, WORKER_DATABASE_GLOBAL, type WorkerDatabase } from './worker-database';

/** The PostgreSQL server the tests use; undefined: each test file gets an embedded one. */
export const serverUrl = (): string | undefined => process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;

export const TEMPLATE_ENV = 'BYOM_TEST_TEMPLATE';
export { DATABASES_DIR_ENV, EMBEDDED_TEMPLATE_ENV } from './worker-database';

export interface TestDatabase {
  url: string;
  poolSize: number;
  /**
   * DATABASE_CONNECT_TIMEOUT_MS for servers on it: the embedded database serves one connection
   * at a time, so on a loaded machine a burst of requests (20 concurrent updates, say) waits
   * longer for it than the 2 s default allows; a test of that bound sets its own.
   */
  connectTimeoutMs?: number;
  drop(): Promise<void>;
}

const EMBEDDED_CONNECT_TIMEOUT_MS = 30_000;

export function databaseUrl(server: string, name: string): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Makes and migrates the template that every test file copies (jest's global setup). */
export async function createTemplate(server: string): Promise<string> {
  const name = `byom_test_template_${process.pid}`;
  await withClient(server, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name}`);
    await client.query(`CREATE DATABASE ${name}`);
  });
  const dataSource = createDataSource({ url: databaseUrl(server, name), poolSize: 2 });
  await dataSource.initialize();
  try {
    await migrate(dataSource, { lock: false });
  } finally {
    await dataSource.destroy();
  }
  return name;
}

/**
 * Makes and migrates an embedded data directory once, so that test files start from a copy
 * instead of each paying for initdb and the migrations.
 */
export async function createEmbeddedTemplate(directory: string): Promise<void> {
  const embedded = await startEmbeddedPostgres({ dataDir: directory });
  try {
    const dataSource = createDataSource({ url: embedded.url, poolSize: EMBEDDED_POOL_SIZE });
    await dataSource.initialize();
    try {
      await migrate(dataSource, { lock: false });
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await embedded.stop();
  }
}

/**
 * Gives a data directory of a test's own the migrated embedded database when the run has one
 * (a run without a server), so that a test of `npm start` does not pay for initdb (about 850 MB
 * and four seconds) unless it means to. A run on a server has none: the directory stays new.
 */
export function seedEmbeddedDataDir(dataDir: string): void {
  const template = process.env[EMBEDDED_TEMPLATE_ENV];
  const target = path.join(dataDir, 'pglite');
  if (template && !existsSync(target)) cpSync(template, target, { recursive: true });
}

/**
 * An embedded PostgreSQL of the caller's own, whatever the run's database: on a copy of the
 * embedded template's data directory when the run has one (removed when it stops), else in memory
 * (a new initdb, about 1.5 s of CPU and 600 MB while it runs; migrated when an app opens it).
 * On disk rather than loaded into memory: PGlite keeps an in-memory data directory twice over.
 */
export async function startEmbeddedTestDatabase(options: Pick<EmbeddedPostgresOptions, 'idleInTransactionTimeoutMs'> = {}): Promise<EmbeddedPostgres> {
  const template = process.env[EMBEDDED_TEMPLATE_ENV];
  if (!template) return startEmbeddedPostgres(options);
  const directory = mkdtempSync(path.join(process.env[DATABASES_DIR_ENV] ?? os.tmpdir(), 'byom-test-db-'));
  cpSync(template, directory, { recursive: true });
  const embedded = await startEmbeddedPostgres({ ...options, dataDir: directory });
  return {
    ...embedded,
    async stop() {
      await embedded.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export async function dropDatabase(server: string, name: string): Promise<void> {
  await withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * A migrated database of the test file's own: a copy of the template on the server, or, without
 * one, the worker's embedded database emptied (or, while the file holds that, an embedded
 * PostgreSQL on a copy of the embedded template's data directory; without a template, one in
 * memory, migrated when the app opens it).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = serverUrl();
  const template = process.env[TEMPLATE_ENV];
  if (server && template) {
    const name = `byom_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await withClient(server, (client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
    return { url: databaseUrl(server, name), poolSize: 5, drop: () => dropDatabase(server, name) };
  }
  const worker = (globalThis as { [WORKER_DATABASE_GLOBAL]?: WorkerDatabase })[WORKER_DATABASE_GLOBAL];
  const held = await worker?.acquire();
  if (held) {
    return { url: held.url, poolSize: EMBEDDED_POOL_SIZE, connectTimeoutMs: EMBEDDED_CONNECT_TIMEOUT_MS, drop: () => held.release() };
  }
  const embedded = await startEmbeddedTestDatabase();
  return { url: embedded.url, poolSize: EMBEDDED_POOL_SIZE, connectTimeoutMs: EMBEDDED_CONNECT_TIMEOUT_MS, drop: () => embedded.stop() };
}
