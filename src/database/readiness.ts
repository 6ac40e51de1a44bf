import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { closeUnansweredConnections, MIGRATIONS_TABLE } from './data-source';
import { type DatabaseFault, databaseFault } from './faults';

export type ReadinessStatus = 'ready' | 'migrations pending' | 'database unreachable' | 'database timed out';

export interface Readiness {
  status: ReadinessStatus;
  /** Why the database did not answer, when that is the reason. */
  fault?: DatabaseFault;
}

export interface ReadinessCheck {
  /** Answers within the check's timeout, whatever the database does. */
  check(): Promise<Readiness>;
  close(): Promise<void>;
}

/** The longest /readyz waits for the database. */
export const READINESS_TIMEOUT_MS = 1_000;

const STATEMENT = `SELECT count(*)::int AS applied FROM ${MIGRATIONS_TABLE}`;

export interface ReadinessOptions {
  /** Its migrations are the ones this code knows. */
  dataSource: DataSource;
  /**
   * PostgreSQL: the check has a pool of one connection of its own, so that it never waits behind
   * the service's pool. Undefined (the embedded database, which serves one connection at a time,
   * so that a connection of its own would wait for the service's anyway): the check goes through
   * the service's pool.
   */
  url?: string;
  timeoutMs?: number;
}

/**
 * Readiness: the database answers one statement within the timeout, and holds every migration
 * this code knows. Checks that overlap share one statement; a check whose statement has not
 * answered in time says "database timed out" and leaves it to finish (or fail) on its own.
 */
export function createReadinessCheck({ dataSource, url, timeoutMs = READINESS_TIMEOUT_MS }: ReadinessOptions): ReadinessCheck {
  const pool = url
    ? new Pool({
        connectionString: url,
        max: 1,
        connectionTimeoutMillis: timeoutMs,
        statement_timeout: timeoutMs,
        lock_timeout: timeoutMs,
        query_timeout: timeoutMs,
        idleTimeoutMillis: 60_000,
        application_name: 'byom-subgraph readiness',
        allowExitOnIdle: true,
      })
    : undefined;
  if (pool) {
    // An idle connection that breaks (a restart) is dropped; the next check opens another.
    pool.on('error', () => undefined);
    closeUnansweredConnections(pool);
  }

  async function probe(): Promise<Readiness> {
    try {
      const rows: { applied: number }[] = pool ? (await pool.query(STATEMENT)).rows : await dataSource.query(STATEMENT);
      return { status: rows[0].applied < dataSource.migrations.length ? 'migrations pending' : 'ready' };
    } catch (error) {
      // No migrations table: none applied.
      if ((error as { code?: unknown }).code === '42P01') return { status: 'migrations pending' };
      const fault = databaseFault(error) ?? { kind: 'unreachable' as const, reason: (error as Error).message };
      return { status: fault.kind === 'timeout' ? 'database timed out' : 'database unreachable', fault };
    }
  }

  let inFlight: Promise<Readiness> | undefined;
  return {
    async check() {
      if (!inFlight) inFlight = probe().finally(() => (inFlight = undefined));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<Readiness>((resolve) => {
        timer = setTimeout(
          () => resolve({ status: 'database timed out', fault: { kind: 'timeout', reason: `no answer to the readiness check within ${timeoutMs} ms` } }),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([inFlight, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (!pool) return;
      // A connection stuck on an unanswered statement never ends cleanly: do not wait for it.
      await Promise.race([pool.end(), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    },
  };
}
