import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { initdbCacheDir, initializeDataDir, keptInitdb } from '../../src/database/new-data-dir';
import { scratchDirectories } from '../support/scratch';

/**
 * A new embedded data directory is a copy of PGlite's initdb, run once on a machine and kept
 * (src/database/new-data-dir.ts; the install keeps it, scripts/postinstall.mjs). Here with a cache
 * of the test's own, so that the first step really runs initdb whatever the machine kept before.
 */
describe('a new embedded data directory', () => {
  const newScratch = scratchDirectories('byom-new-data-dir');
  let scratch: string;
  beforeAll(() => {
    scratch = newScratch();
  });

  it('is a copy of initdb, run when nothing is kept and then kept whole, once; and opens', async () => {
    const cache = path.join(scratch, 'cache', '0.0.0');
    const first = path.join(scratch, 'first');
    expect(await initializeDataDir(first, cache)).toBe('copied');
    expect(readFileSync(path.join(cache, 'PG_VERSION'), 'utf8')).toBe(readFileSync(path.join(first, 'PG_VERSION'), 'utf8'));
    expect(existsSync(`${cache}.${process.pid}.partial`)).toBe(false);

    // Kept: initdb does not run again (the install's postinstall finds it so), and the next directory is a copy of what is kept.
    writeFileSync(path.join(cache, 'kept-copy-marker'), 'x');
    expect(await keptInitdb(cache)).toBe('kept');
    const second = path.join(scratch, 'second');
    expect(await initializeDataDir(second, cache)).toBe('copied');
    expect(existsSync(path.join(second, 'kept-copy-marker'))).toBe(true);
    rmSync(path.join(second, 'kept-copy-marker'));

    const embedded = await startEmbeddedPostgres({ dataDir: second });
    try {
      const { rows } = await embedded.db.query<{ answer: number }>('SELECT 6 * 7 AS answer');
      expect(rows).toEqual([{ answer: 42 }]);
    } finally {
      await embedded.stop();
    }
  });

  it('is not kept where the cache cannot be written: nothing is made there', async () => {
    const file = path.join(scratch, 'a-file');
    writeFileSync(file, 'x');
    expect(await keptInitdb(path.join(file, '0.0.0'))).toBeUndefined();
  });

  it('is kept beside PGlite in node_modules/.cache, under its version', () => {
    const version = (JSON.parse(readFileSync(path.join(__dirname, '../../node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }).version;
    expect(initdbCacheDir()).toBe(path.join(__dirname, '../../node_modules/.cache/byom-pglite-initdb', version));
  });
});
