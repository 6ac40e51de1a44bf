import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A connection string for the `pg` driver, on a loopback port. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite in this process and serves it over the PostgreSQL wire protocol on 127.0.0.1, so
 * the same `pg` driver and migrations serve the embedded and the real database.
 *
 * PGlite is a single session: every connection shares it and runs one statement at a time, so
 * callers must use a pool of exactly one connection (`EMBEDDED_POOL_SIZE`).
 *
 * @param dataDir where the data lives; undefined keeps it in memory (tests).
 */
export async function startEmbeddedPostgres(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: EMBEDDED_POOL_SIZE });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

export const EMBEDDED_POOL_SIZE = 1;
