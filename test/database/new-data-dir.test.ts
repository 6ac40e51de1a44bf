import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { initdbCacheDir, initializeDataDir } from '../../src/database/new-data-dir';
import { scratchDirectories } from '../support/scratch';

/**
 * A new embedded data directory: the first on a machine is made by initdb and kept, the next ones
 * are copies of it (src/database/new-data-dir.ts). Here with a cache of the test's own, so that
 * the first step really runs initdb whatever the machine kept before.
 */
describe('a new embedded data directory', () => {
  const newScratch = scratchDirectories('byom-new-data-dir');
  let scratch: string;
  beforeAll(() => {
    scratch = newScratch();
  });

  it('is made by initdb when nothing is kept, which is then kept whole; the next one is a copy of it, and opens', async () => {
    const cache = path.join(scratch, 'cache', '0.0.0');
    const first = path.join(scratch, 'first');
    expect(await initializeDataDir(first, cache)).toBe('initialized');
    expect(readFileSync(path.join(cache, 'PG_VERSION'), 'utf8')).toBe(readFileSync(path.join(first, 'PG_VERSION'), 'utf8'));
    expect(existsSync(`${cache}.${process.pid}.partial`)).toBe(false);

    writeFileSync(path.join(cache, 'kept-copy-marker'), 'x');
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

  it('is kept beside PGlite in node_modules/.cache, under its version', () => {
    const version = (JSON.parse(readFileSync(path.join(__dirname, '../../node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }).version;
    expect(initdbCacheDir()).toBe(path.join(__dirname, '../../node_modules/.cache/byom-pglite-initdb', version));
  });
});
