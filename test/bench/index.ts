/**
 * `npm run bench`: the service's benchmarks, on real PostgreSQL (BENCH_DATABASE_URL, else
 * TEST_DATABASE_URL or DATABASE_URL, else the machine's 127.0.0.1:5432). Figures are printed, not
 * asserted: comparisons are made side by side in one run.
 */
import 'reflect-metadata';
import { benchConnect, benchReencrypt } from './connections.bench';
import { BENCH_DATABASE_URL, prepareDatabases } from './support';

async function main(): Promise<void> {
  process.stdout.write(`byom-subgraph benchmarks on ${new URL(BENCH_DATABASE_URL).host}, Node ${process.version}\n`);
  const dropTemplate = await prepareDatabases();
  try {
    await benchConnect();
    await benchReencrypt();
  } finally {
    await dropTemplate();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
