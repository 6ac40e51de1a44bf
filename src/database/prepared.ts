import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs a statement as a named prepared statement: PostgreSQL parses it once per connection. It
 * also keeps one generic plan for it, instead of planning it on every call, but only when that
 * plan costs no more than the first five custom ones did: the statement must be written for it
 * (see ANCESTOR_CHAIN_OF_FEW; a test watches pg_prepared_statements). For the hot, fixed
 * statements that every request of a kind sends (access checks, the walk). TypeORM hands the pg
 * driver the query as given, so the driver's `{ name, text }` form passes through its `query`.
 */
export function preparedQuery<T>(runner: Pick<DataSource | EntityManager, 'query'>, statement: PreparedStatement, parameters: unknown[]): Promise<T[]> {
  return runner.query({ name: statement.name, text: statement.text } as unknown as string, parameters);
}

/** A statement that runs prepared under its name, which must be unique to its text. */
export interface PreparedStatement {
  name: string;
  text: string;
}
