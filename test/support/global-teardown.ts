import { rmSync } from 'node:fs';
import { DATABASES_DIR_ENV, TEMPLATE_ENV, dropDatabase, serverUrl } from './database';
import { RUN_LOG_DIR_ENV, findKeysInRunLogs, removeRunLogDirectory } from './run-logs';
import { WORKER_DATABASE_KEY, type WorkerDatabase } from './worker-database';

export default async function globalTeardown(): Promise<void> {
  const server = serverUrl();
  const template = process.env[TEMPLATE_ENV];
  if (server && template) await dropDatabase(server, template);
  // A run in band opened its worker database in this process, which would not exit while it serves.
  const inBand = (globalThis as Record<symbol, WorkerDatabase | undefined>)[WORKER_DATABASE_KEY];
  if (inBand) await inBand.close();
  // The workers' and files' embedded databases (the template is kept for the next run).
  const databases = process.env[DATABASES_DIR_ENV];
  if (databases) rmSync(databases, { recursive: true, force: true });

  // The whole run's logs must never hold a provider key: failing here fails the run.
  const directory = process.env[RUN_LOG_DIR_ENV];
  if (!directory) return;
  const { lines, leaks } = findKeysInRunLogs(directory);
  removeRunLogDirectory(directory);
  if (leaks.length > 0) {
    throw new Error(`A provider key appeared in the service's logs of this run (${leaks.length} of ${lines} lines): ${leaks.slice(0, 10).join(', ')}`);
  }
  process.stdout.write(`\nNo provider key in the ${lines} log lines of this run.\n`);
}
