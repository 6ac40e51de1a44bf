import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * Makes a new embedded data directory. initdb is PGlite's costliest step (about 4 s of CPU and
 * 850 MB in a process of its own), and its result is the same every time for one PGlite version:
 * so it is run once on a machine and kept, as it left initdb, in `node_modules/.cache/` beside
 * PGlite (keptInitdb: at the install, by scripts/postinstall.mjs, or else by the first new data
 * directory), and every new data directory (the first start's, a scratch one for the demo, a
 * second DATA_DIR, a test's) is a copy of it, made in a fraction of a second. Where nothing can be
 * kept (a read-only install), each new directory runs initdb as before.
 */
export async function initializeDataDir(dataDir: string, cacheDir: string | undefined = initdbCacheDir()): Promise<'copied' | 'initialized'> {
  if (cacheDir && (await keptInitdb(cacheDir))) {
    try {
      cpSync(cacheDir, dataDir, { recursive: true });
      return 'copied';
    } catch {
      // A copy cut short (a full disk): initdb makes the directory afresh.
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir, { recursive: true });
    }
  }
  await initializeInChildProcess(dataDir);
  return 'initialized';
}

/**
 * Keeps PGlite's initdb in `cacheDir`: 'kept' when it was already, 'made' when initdb ran now (in
 * a scratch directory beside it, renamed into place: whole or not at all), undefined where it
 * cannot be kept (no node_modules, a read-only install, a full disk).
 */
export async function keptInitdb(cacheDir: string | undefined = initdbCacheDir()): Promise<'kept' | 'made' | undefined> {
  if (!cacheDir) return undefined;
  const kept = () => existsSync(path.join(cacheDir, 'PG_VERSION'));
  if (kept()) return 'kept';
  const partial = `${cacheDir}.${process.pid}.partial`;
  try {
    mkdirSync(partial, { recursive: true });
    await initializeInChildProcess(partial);
    renameSync(partial, cacheDir);
    return 'made';
  } catch {
    // Another process kept one first, or the install is read-only.
    return kept() ? 'kept' : undefined;
  } finally {
    // Left only by a failure; where nothing could be made (not a directory), nothing is there to remove.
    try {
      rmSync(partial, { recursive: true, force: true });
    } catch {}
  }
}

/** `node_modules/.cache/byom-pglite-initdb/<PGlite's version>`, or undefined where PGlite is not in a node_modules. */
export function initdbCacheDir(): string | undefined {
  const entry = require.resolve('@electric-sql/pglite');
  const match = /^(.*[\\/]node_modules)[\\/]@electric-sql[\\/]pglite[\\/]/.exec(entry);
  if (!match) return undefined;
  const packageJson = path.join(match[1], '@electric-sql', 'pglite', 'package.json');
  try {
    const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
    return path.join(match[1], '.cache', 'byom-pglite-initdb', version);
  } catch {
    return undefined;
  }
}

/**
 * A new data directory is made by initdb, which PGlite runs in WebAssembly memory of its own
 * (about 500 MB) that this process would keep until a full garbage collection: a short-lived
 * process makes it instead, and takes that memory with it.
 */
async function initializeInChildProcess(dataDir: string): Promise<void> {
  const script = `require(process.argv[1]).PGlite.create({ dataDir: process.argv[2] }).then((db) => db.close())`;
  const child = spawn(process.execPath, ['-e', script, require.resolve('@electric-sql/pglite'), dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`could not create the embedded data directory ${dataDir}: ${stderr.trim().split('\n').pop()}`);
}
