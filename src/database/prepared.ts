import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs a statement as a named prepared statement: PostgreSQL parses and plans it once per
 * connection instead of once per call. For the hot, fixed statements that every request of a
 * kind sends (access checks, the inheritance walk). TypeORM hands the pg driver the query as given,
 * so the driver's `{ name, text }` form passes through its `query`.
 */
export function preparedQuery<T>(runner: Pick<DataSource | EntityManager, 'query'>, name: string, text: string, parameters: unknown[]): Promise<T[]> {
  return runner.query({ name, text } as unknown as string, parameters);
}
