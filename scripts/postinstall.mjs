#!/usr/bin/env node
/**
 * npm's postinstall (`npm ci`, `npm install`): compiles the sources that changed
 * (scripts/build.mjs) and runs PGlite's initdb once, kept in node_modules/.cache
 * (src/database/new-data-dir.ts, keptInitdb), so that a new clone's first `npm start` copies a
 * data directory instead of running initdb (about 6 s of a 12 s first start). Nothing when it is
 * kept already.
 *
 * It never fails the install: without the devDependencies (a production install, where
 * DATABASE_URL names the database anyway) or where the cache cannot be written, it says so in one
 * line, and the first start on the embedded database runs initdb itself. `npm ci --ignore-scripts`
 * skips it.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stdout.write(`postinstall: ${line}\n`);

try {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--only=sources'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  if (built.status !== 0) {
    say(`the sources were not compiled (${String(built.stderr).trim().split('\n').pop() || `exit ${built.status}`}); the first embedded start runs initdb itself`);
  } else {
    const started = performance.now();
    const { initdbCacheDir, keptInitdb } = createRequire(import.meta.url)(path.join(root, 'dist', 'src', 'database', 'new-data-dir.js'));
    const cacheDir = initdbCacheDir();
    const kept = await keptInitdb(cacheDir);
    const where = cacheDir ? path.relative(root, cacheDir) : 'node_modules/.cache';
    if (kept === 'made') say(`PGlite's initdb kept in ${where} (${((performance.now() - started) / 1000).toFixed(1)} s), for new embedded data directories`);
    else if (kept === undefined) say(`PGlite's initdb could not be kept in ${where}; the first embedded start runs it itself`);
  }
} catch (error) {
  say(`skipped (${error instanceof Error ? error.message : String(error)}); the first embedded start runs initdb itself`);
}
