#!/usr/bin/env node
/**
 * `npm start`: compiles the sources that changed (scripts/build.mjs, in a process of its own, and
 * only when one did: the check reads file times), then runs the service in this process, from
 * dist/service.js, the bundle of dist/src, with a V8 code cache.
 *
 * When the bundle is older than dist/src (a source changed, or a new clone), this start runs
 * dist/src/main.js, as `npm start` did before the bundle, and bundles once the service is ready
 * (in a process of its own, at a low priority): bundling (about a second) is not waited for, and
 * the next start runs the bundle. A settings page older than web/ is built beside the start
 * (Vite, about a second, in a process of its own): until it is, the page answers 503; a new
 * clone's first start makes its database meanwhile, which takes longer.
 *
 * The cache (dist/service.cache) is written once the service is ready, so it holds the bytecode
 * of every function that starting it compiled, not only of the bundle's top level; it is tied to
 * the bundle it was made from (its size and time) and to this Node.js (V8 refuses another's), and
 * made anew when either changes. A start with tracing (an OTLP endpoint set) runs dist/src/main.js
 * instead: tracing's hooks patch pg, express and graphql as they are required, which a bundle
 * never does. So does a start without the bundle (an install without devDependencies).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import Module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { SERVICE_BUNDLE, bundleStale, sourcesUpToDate, webStale, writeAtomically } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const CACHE = path.join(root, 'dist', 'service.cache');
/** Emitted on `process` by main.ts once the service is ready. */
const READY_EVENT = 'byom:ready';

// swc, Vite and esbuild stay out of the service's process.
const BUILD = path.join(root, 'scripts', 'build.mjs');
if (!sourcesUpToDate()) {
  const built = spawnSync(process.execPath, [BUILD, '--only=sources'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
// At a low priority: on a new clone it shares the cores with making the database, which the start waits for.
if (webStale()) background(['--only=web']);

const { tracingPlan } = require(path.join(root, 'dist', 'src', 'telemetry', 'tracing-plan.js'));
if (bundleStale()) {
  process.once(READY_EVENT, bundleForNextStart);
  require(path.join(root, 'dist', 'src', 'main.js'));
} else if (tracingPlan(process.env).start !== false) {
  require(path.join(root, 'dist', 'src', 'main.js'));
} else {
  runBundle(statSync(SERVICE_BUNDLE));
}

function bundleForNextStart() {
  background(['--only=bundle']);
}

/**
 * Runs build.mjs in a process of its own at a low priority, which the service does not wait for.
 * Detached, in a process group of its own: a service stopped at once (Ctrl-C) leaves it to finish
 * (a second or two), instead of the next start finding the bundle still stale. It tells nothing
 * (a terminal may be the shell's again by then): a page that failed to build answers 503 saying
 * to run `npm run build`, which shows why.
 */
function background(args) {
  spawn(process.execPath, [BUILD, ...args, '--background'], { cwd: root, stdio: 'ignore', detached: true }).unref();
}

function runBundle(bundle) {
  const stamp = `${process.version} ${process.arch} ${bundle.size} ${bundle.mtimeMs}\n`;
  let cachedData;
  try {
    const cache = readFileSync(CACHE);
    const end = cache.indexOf(10);
    if (end > 0 && cache.subarray(0, end + 1).toString() === stamp) cachedData = cache.subarray(end + 1);
  } catch {
    // none yet
  }
  const source = readFileSync(SERVICE_BUNDLE, 'utf8');
  const script = new vm.Script(source, {
    filename: SERVICE_BUNDLE,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (!cachedData || script.cachedDataRejected) {
    process.once(READY_EVENT, () => {
      // After the ready line: the service answers meanwhile, the cache is for the next start.
      setImmediate(() => {
        try {
          writeAtomically(CACHE, Buffer.concat([Buffer.from(stamp), script.createCachedData()]));
        } catch {
          // A read-only dist/: every start compiles, as without a cache.
        }
      });
    });
  }
  const module = new Module(SERVICE_BUNDLE);
  module.filename = SERVICE_BUNDLE;
  module.paths = Module._nodeModulePaths(path.dirname(SERVICE_BUNDLE));
  const requireFromBundle = createRequire(SERVICE_BUNDLE);
  script.runInThisContext()(module.exports, requireFromBundle, module, SERVICE_BUNDLE, path.dirname(SERVICE_BUNDLE));
}
