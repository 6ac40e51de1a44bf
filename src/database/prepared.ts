import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs a statement as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of once per call. For the hot, fixed statements that every request of a
 * kind sends (access checks, the inheritance walk). TypeORM hands the pg driver the query as given,
 * so the driver's `{ name, text }` form passes through its `query`.
 */
export function preparedQuery<T>(runner: Pick<DataSource | EntityManager, 'query'>, statement: PreparedStatement, parameters: unknown[]): Promise<T[]> {
  return runner.query({ name: statement.name, text: statement.text } as unknown as string, parameters);
}

/** A statement that runs prepared under its name, which must be unique to its text. */
export interface PreparedStatement {
  name: string;
  text: string;
}
