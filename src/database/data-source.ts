import path from 'node:path';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { AgentEntity } from '../agents/agent.entity';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { RunAttemptEntity, RunEntity } from '../runs/run.entity';
import { ModelCooldownEntity } from '../connections/model-cooldown.entity';
import { ProviderConnectionEntity } from '../connections/provider-connection.entity';
import { ModelSettingsEntity } from '../model-settings/model-settings.entity';
import { MembershipEntity } from '../organizations/membership.entity';
import { OrganizationEntity } from '../organizations/organization.entity';
import type { SqlLogger } from './sql-logger';

export const ENTITIES = [OrganizationEntity, MembershipEntity, ProviderConnectionEntity, AuditEventEntity, ModelSettingsEntity, AgentEntity, RunEntity, RunAttemptEntity, ModelCooldownEntity];

/** Compiled: dist/migrations/*.js; under ts-node or jest: migrations/*.ts. */
export const MIGRATIONS_GLOB = path.join(__dirname, '..', '..', 'migrations', '*.{js,ts}');

export const MIGRATIONS_TABLE = 'migrations';

/**
 * Bounds on one session's statements, applied by PostgreSQL itself (startup parameters of each
 * new connection, which `RESET ALL` and `DISCARD ALL` keep). PGlite ignores startup parameters:
 * the embedded database enforces the idle-in-transaction timeout in its own server instead
 * (embedded-postgres.ts), and one session has no lock to wait for.
 */
export interface SessionTimeouts {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/**
 * How much longer than the statement timeout the driver waits for an answer before it gives up on
 * the connection: the server cancels a statement at its timeout, so an answer that has not come a
 * second later is not coming (a frozen server, a black-holed network).
 */
export const READ_TIMEOUT_MARGIN_MS = 1_000;

export interface DataSourceOptions {
  url: string;
  poolSize: number;
  /** How long a pooled connection may idle before the pool closes it (pg-pool's default: 10 s). */
  idleTimeoutMs?: number;
  /** How long taking a connection from the pool, or opening one, may wait (10 s unless given). */
  connectTimeoutMs?: number;
  /** Sent to PostgreSQL with each new connection; none (no timeouts) unless given. */
  timeouts?: SessionTimeouts;
  /**
   * The longest the driver waits for the answer to one statement; past it the statement fails and
   * its connection is closed. Unset: the statement timeout plus READ_TIMEOUT_MARGIN_MS, or none.
   */
  readTimeoutMs?: number;
  logger?: SqlLogger;
  applicationName?: string;
  /** Where errors of idle pooled connections go (a killed backend, a restart); TypeORM's warning unless given. */
  onPoolError?: (error: Error) => void;
}

export function createDataSource({
  url,
  poolSize,
  idleTimeoutMs = 10_000,
  connectTimeoutMs = 10_000,
  timeouts,
  readTimeoutMs = timeouts ? timeouts.statementTimeoutMs + READ_TIMEOUT_MARGIN_MS : undefined,
  logger,
  applicationName,
  onPoolError,
}: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+ and PGlite: no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logger,
    maxQueryExecutionTime: 500,
    applicationName: applicationName ?? 'byom-subgraph',
    poolErrorHandler: onPoolError,
    extra: {
      max: poolSize,
      idleTimeoutMillis: idleTimeoutMs,
      connectionTimeoutMillis: connectTimeoutMs,
      ...(timeouts && {
        statement_timeout: timeouts.statementTimeoutMs,
        lock_timeout: timeouts.lockTimeoutMs,
        idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs,
      }),
      ...(readTimeoutMs !== undefined && { query_timeout: readTimeoutMs }),
    },
  });
}

/** The pg pool behind an initialized data source. */
export const poolOf = (dataSource: DataSource): Pool => (dataSource.driver as unknown as { master: Pool }).master;

/** What pg-pool and pg keep of a pooled client, beyond their public types. */
interface PooledClientState {
  _queryable: boolean;
  _getActiveQuery?: () => unknown;
  connection?: { stream?: { destroy(): void } };
}

/**
 * After a read timeout, pg still waits for the statement's answer on that connection, and every
 * later statement would queue behind it. Such a connection, once back in the pool, is closed and
 * dropped (pg-pool drops clients it finds not queryable), so the next request gets a fresh one.
 * Call once the pool exists (after `initialize()`).
 */
export function closeUnansweredConnections(pool: Pool): void {
  pool.on('release', (_error: unknown, client: unknown) => {
    const state = client as PooledClientState;
    if (!state._getActiveQuery?.()) return;
    state._queryable = false;
    state.connection?.stream?.destroy();
  });
}
