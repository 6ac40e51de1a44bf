import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * Makes a new embedded data directory. initdb is PGlite's costliest step (about 4 s of CPU and
 * 850 MB in a process of its own), and its result is the same every time for one PGlite version:
 * so the first one on a machine is kept, as it left initdb, in `node_modules/.cache/` beside PGlite,
 * and every later new data directory (a scratch one for the demo, a second DATA_DIR, a test's)
 * is a copy of it, made in a fraction of a second. The kept copy is written whole or not at all
 * (renamed into place); where it cannot be written (a read-only install), each new directory runs
 * initdb as before.
 */
export async function initializeDataDir(dataDir: string, cacheDir: string | undefined = initdbCacheDir()): Promise<'copied' | 'initialized'> {
  if (cacheDir && existsSync(path.join(cacheDir, 'PG_VERSION'))) {
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
  if (cacheDir) keep(dataDir, cacheDir);
  return 'initialized';
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

/** Copies a data directory that initdb has just made into the cache, whole or not at all. */
function keep(dataDir: string, cacheDir: string): void {
  const partial = `${cacheDir}.${process.pid}.partial`;
  try {
    cpSync(dataDir, partial, { recursive: true });
    renameSync(partial, cacheDir);
  } catch {
    // Another process kept one first, or the install is read-only: nothing is lost.
  } finally {
    rmSync(partial, { recursive: true, force: true });
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
