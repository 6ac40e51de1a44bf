import { TEMPLATE_ENV, createTemplate, dropDatabase } from '../support/database';

/** The PostgreSQL server the benchmarks run on: real PostgreSQL, never the embedded one. */
export const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Makes the migrated template the test servers copy; returns how to drop it. */
export async function prepareDatabases(): Promise<() => Promise<void>> {
  process.env.TEST_DATABASE_URL = BENCH_DATABASE_URL;
  const template = await createTemplate(BENCH_DATABASE_URL);
  process.env[TEMPLATE_ENV] = template;
  return () => dropDatabase(BENCH_DATABASE_URL, template);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** How long `work` took, in milliseconds. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export const ms = (value: number) => `${value.toFixed(2)} ms`;

/** Prints rows as an aligned table. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  const line = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  process.stdout.write(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of cells.slice(1)) process.stdout.write(`${line(row)}\n`);
}
