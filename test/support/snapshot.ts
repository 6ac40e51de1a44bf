import type { DataSource } from 'typeorm';

/** For each name, a SELECT and the order of its rows (in the SELECT's column names). */
export type SnapshotTables = Record<string, { select: string; order: string }>;

export type Snapshot<T extends SnapshotTables> = Record<keyof T, Record<string, unknown>[]>;

/**
 * The rows of the given tables, read in one statement (one moment of the database), to compare
 * before and after a call that must change nothing, or only add rows. Values come as JSON:
 * timestamps to the microsecond, so a rewrite of the same value still counts as a change.
 */
export async function snapshotTables<T extends SnapshotTables>(dataSource: DataSource, tables: T): Promise<Snapshot<T>> {
  const columns = Object.entries(tables).map(
    ([name, { select, order }]) => `(SELECT coalesce(json_agg(t ORDER BY ${order}), '[]'::json) FROM (${select}) t) AS "${name}"`,
  );
  const [row] = await dataSource.query(`SELECT ${columns.join(',\n  ')}`);
  return row as Snapshot<T>;
}
