import path from 'node:path';
import { DataSource } from 'typeorm';
import { AgentEntity } from '../agents/agent.entity';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { RunAttemptEntity, RunEntity } from '../runs/run.entity';
import { ProviderConnectionEntity } from '../connections/provider-connection.entity';
import { ModelSettingsEntity } from '../model-settings/model-settings.entity';
import { MembershipEntity } from '../organizations/membership.entity';
import { OrganizationEntity } from '../organizations/organization.entity';
import type { SqlLogger } from './sql-logger';

export const ENTITIES = [OrganizationEntity, MembershipEntity, ProviderConnectionEntity, AuditEventEntity, ModelSettingsEntity, AgentEntity, RunEntity, RunAttemptEntity];

/** Compiled: dist/migrations/*.js; under ts-node or jest: migrations/*.ts. */
export const MIGRATIONS_GLOB = path.join(__dirname, '..', '..', 'migrations', '*.{js,ts}');

export const MIGRATIONS_TABLE = 'migrations';

export interface DataSourceOptions {
  url: string;
  poolSize: number;
  /** How long a pooled connection may idle before the pool closes it (pg-pool's default: 10 s). */
  idleTimeoutMs?: number;
  logger?: SqlLogger;
  applicationName?: string;
}

export function createDataSource({ url, poolSize, idleTimeoutMs = 10_000, logger, applicationName }: DataSourceOptions): DataSource {
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
    extra: { max: poolSize, idleTimeoutMillis: idleTimeoutMs, connectionTimeoutMillis: 10_000 },
  });
}
