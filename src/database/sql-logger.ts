import type { Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '../logger';
import { databaseFault } from './faults';

/**
 * TypeORM's logger: counts every SQL statement sent (tests and the benchmark read
 * `statements` before and after a request), logs failed and slow statements without their
 * parameters (they may carry user data) unless they are a database fault (outage-log.ts counts
 * those), and logs migrations.
 */
export class SqlLogger implements TypeOrmLogger {
  statements = 0;

  constructor(private readonly logger: Logger) {}

  logQuery(): void {
    this.statements += 1;
  }

  logQueryError(error: string | Error, query: string): void {
    // A timeout or an outage: the outage log says so once, not once per statement.
    if (databaseFault(error) !== undefined) {
      this.logger.debug({ sql: query, error: error instanceof Error ? error.message : error }, 'SQL statement failed');
      return;
    }
    this.logger.warn({ sql: query, error: error instanceof Error ? error.message : error }, 'SQL statement failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ sql: query, durationMs: time }, 'slow SQL statement');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.info({ migration: message }, 'migration');
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn({ typeorm: message }, 'typeorm warning');
    else this.logger.debug({ typeorm: message }, 'typeorm');
  }
}
