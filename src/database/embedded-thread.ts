import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config';
import type { EmbeddedPostgresOptions } from './embedded-postgres';

/** One connection at a time: the embedded database is a single session (see startEmbeddedPostgres). */
export const EMBEDDED_POOL_SIZE = 1;

/** The embedded database as the service uses it: a URL for `pg`, and a way to stop it. */
export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

/** What the thread (embedded-worker.ts) tells: its URL once started, or why it could not start. */
export type WorkerReport = { url: string } | { error: { message: string; stack?: string } };

const WORKER = path.join(__dirname, 'embedded-worker.js');

export const embeddedDataDir = (config: Pick<Config, 'dataDir'>): string => path.join(config.dataDir, 'pglite');

/** The service's embedded database, under its data directory, with its idle-in-transaction timeout. */
export const startEmbedded = (config: Pick<Config, 'dataDir' | 'databaseTimeouts'>): Promise<EmbeddedServer> =>
  startEmbeddedServer({ dataDir: embeddedDataDir(config), idleInTransactionTimeoutMs: config.databaseTimeouts.idleInTransactionTimeoutMs });

/**
 * The embedded PostgreSQL of startEmbeddedPostgres, in a thread of its own: opening it (compiling
 * and starting PGlite's WebAssembly, about 0.5 s of CPU) no longer waits for the main thread,
 * which loads the service's modules and builds its schema meanwhile, on the other core; and its
 * statements run beside the GraphQL work instead of between it. It listens on 127.0.0.1 as
 * before: the pool connects to it the same way.
 *
 * From TypeScript sources (ts-node, jest) there is no compiled worker: the database starts in
 * this thread.
 */
export async function startEmbeddedServer(options: Required<Pick<EmbeddedPostgresOptions, 'dataDir'>> & EmbeddedPostgresOptions): Promise<EmbeddedServer> {
  if (!existsSync(WORKER)) {
    const { startEmbeddedPostgres } = require('./embedded-postgres') as typeof import('./embedded-postgres');
    return startEmbeddedPostgres(options);
  }
  const worker = new Worker(WORKER, { workerData: { dataDir: options.dataDir, idleInTransactionTimeoutMs: options.idleInTransactionTimeoutMs } });
  const exited = once(worker, 'exit');
  const failed = once(worker, 'error').then(([error]) => {
    throw error;
  });
  failed.catch(() => undefined);
  const [report] = (await Promise.race([once(worker, 'message'), failed])) as [WorkerReport];
  if ('error' in report) {
    await exited;
    throw Object.assign(new Error(report.error.message), { stack: report.error.stack });
  }
  // Past start-up, a thread that fails takes the service with it, as the database in this thread would.
  worker.on('error', (error) => {
    throw error;
  });
  let stopped: Promise<void> | undefined;
  return {
    url: report.url,
    stop() {
      stopped ??= (async () => {
        worker.postMessage('stop');
        await exited;
      })();
      return stopped;
    },
  };
}
