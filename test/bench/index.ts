/**
 * `npm run bench`: the service's benchmarks, on real PostgreSQL (BENCH_DATABASE_URL, else
 * TEST_DATABASE_URL or DATABASE_URL, else the machine's 127.0.0.1:5432). Figures are printed, not
 * asserted: comparisons are made side by side in one run. `BENCH_ONLY=connect,effective-models`
 * runs only the named ones.
 */
import 'reflect-metadata';
import { benchAttack } from './attack.bench';
import { benchConnect, benchReencrypt } from './connections.bench';
import { benchCooldowns } from './cooldowns.bench';
import { benchEffectiveModels } from './effective-models.bench';
import { benchInstructions } from './instructions.bench';
import { benchOverhead } from './overhead.bench';
import { benchRuns } from './runs.bench';
import { BENCH_DATABASE_URL, prepareDatabases } from './support';

async function main(): Promise<void> {
  process.stdout.write(`byom-subgraph benchmarks on ${new URL(BENCH_DATABASE_URL).host}, Node ${process.version}\n`);
  const benches: [string, () => Promise<void>][] = [
    ['connect', benchConnect],
    ['reencrypt', benchReencrypt],
    ['effective-models', benchEffectiveModels],
    ['runs', benchRuns],
    ['cooldowns', benchCooldowns],
    ['attack', benchAttack],
    ['overhead', benchOverhead],
    ['instructions', benchInstructions],
  ];
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !benches.some(([known]) => known === name)) ?? [];
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names no bench ${unknown.join(', ')}; the benches: ${benches.map(([name]) => name).join(', ')}`);
  const dropTemplate = await prepareDatabases();
  try {
    for (const [name, bench] of benches) if (!only || only.includes(name)) await bench();
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
