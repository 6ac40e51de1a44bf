import { isUUID } from 'class-validator';

/** Ids compare in lower case, as PostgreSQL prints UUIDs. */
export const normalizeId = (id: string) => id.toLowerCase();

/** The distinct UUIDs among loader keys, normalized; keys that are not UUIDs never reach SQL. */
export const uuidsOf = (keys: readonly string[]) => [...new Set(keys.filter((key) => isUUID(key)).map(normalizeId))];

export function groupBy<T>(rows: readonly T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

/** Answers a batch of id keys in key order from the rows found for their UUIDs: one value per key, `missing` when none. */
export async function byIdKeys<Row, Value>(
  keys: readonly string[],
  load: (ids: string[]) => Promise<Row[]>,
  keyOf: (row: Row) => string,
  collect: (rows: Row[] | undefined) => Value,
): Promise<Value[]> {
  const ids = uuidsOf(keys);
  const rows = ids.length ? await load(ids) : [];
  const grouped = groupBy(rows, keyOf);
  return keys.map((key) => collect(grouped.get(normalizeId(key))));
}

/** collect for a loader of one row per key. */
export const one = <T>(rows: T[] | undefined): T | null => rows?.[0] ?? null;
/** collect for a loader of a list per key. */
export const all = <T>(rows: T[] | undefined): T[] => rows ?? [];
