#!/usr/bin/env node
/**
 * `npm run build`: compiles src/, migrations/ and ormconfig.ts into dist/ with swc, one file at a
 * time and only what changed since its last build, so `npm start` with nothing changed costs no
 * compile. Types are checked by `npm run typecheck` (tsc), which CI runs; swc only strips them.
 * The options are those jest uses (jest.config.js), so tests and the service run the same code.
 * Then the settings page, web/ into dist/web with Vite, only when a file of web/ (or the lock
 * file) is newer than the last build of it; with --bundle (`npm run build`), beside it, the
 * service in one file (dist/service.js, by esbuild from dist/src: see SERVICE_BUNDLE) when a
 * module of dist/src is newer than it. --only= builds some of the three (see parts());
 * --background lowers the build's priority (npm start's builds beside the service).
 *
 * scripts/start.mjs imports this module to ask what needs building (sourcesUpToDate(),
 * webStale(), bundleStale()), which reads only file times.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist');
const inputs = ['src', 'migrations', 'ormconfig.ts'];
// A change to these changes every output.
const settings = ['scripts/build.mjs', 'package-lock.json'];

export const SWC_OPTIONS = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: true,
};

function sources(entry) {
  const full = path.join(root, entry);
  if (!statSync(full, { throwIfNoEntry: false })) return [];
  if (statSync(full).isFile()) return [entry];
  return readdirSync(full, { recursive: true })
    .map((name) => path.join(entry, String(name)))
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'));
}

const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;

/** When the newest setting of the build (package.json, tsconfig, …) was written. */
const newestSetting = () => Math.max(...settings.map((file) => mtime(path.join(root, file))));

/** The sources whose module in dist/ is older than they are, and the modules left by sources that are gone. */
function compileState() {
  const settingsWritten = newestSetting();
  const files = inputs.flatMap(sources);
  const wanted = new Set(files.map((file) => file.replace(/\.ts$/, '.js')));
  const stale = files.filter((file) => {
    const built = mtime(path.join(out, file.replace(/\.ts$/, '.js')));
    return built < mtime(path.join(root, file)) || built < settingsWritten;
  });
  const orphans = [];
  for (const entry of inputs.filter((entry) => !entry.endsWith('.ts'))) {
    const dir = path.join(out, entry);
    if (!statSync(dir, { throwIfNoEntry: false })) continue;
    for (const name of readdirSync(dir, { recursive: true }).map(String)) {
      const relative = path.join(entry, name);
      // A source that was deleted or renamed leaves no module behind (migrations are found by glob).
      if (relative.endsWith('.js') && !wanted.has(relative)) orphans.push(relative);
    }
  }
  return { stale, orphans };
}

function build() {
  const started = performance.now();
  const { stale, orphans } = compileState();
  for (const relative of orphans) {
    rmSync(path.join(out, relative));
    rmSync(path.join(out, `${relative}.map`), { force: true });
  }
  const removed = orphans.length;
  if (stale.length === 0) return { compiled: 0, removed, ms: performance.now() - started };

  // Loaded only when something must be compiled.
  const swc = createRequire(import.meta.url)('@swc/core');
  for (const file of stale) {
    const target = path.join(out, file.replace(/\.ts$/, '.js'));
    const { code, map } = swc.transformFileSync(path.join(root, file), {
      ...SWC_OPTIONS,
      filename: file,
      sourceFileName: path.relative(path.dirname(target), path.join(root, file)),
      outputPath: target,
      swcrc: false,
      configFile: false,
    });
    mkdirSync(path.dirname(target), { recursive: true });
    writeAtomically(`${target}.map`, map);
    writeAtomically(target, `${code}\n//# sourceMappingURL=${path.basename(target)}.map\n`);
  }
  return { compiled: stale.length, removed, ms: performance.now() - started };
}

/** A process that loads dist/ while another builds never reads half a file. */
function writeAtomically(file, content) {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

const WEB = path.join(root, 'web');
const WEB_OUT = path.join(out, 'web');
/** Written after each build of the page: its time is the build's. */
const WEB_STAMP = path.join(WEB_OUT, '.built');

/** True when the settings page's sources (or the lock file) are newer than its last build. */
function webStale() {
  if (!statSync(WEB, { throwIfNoEntry: false })) return false;
  const newest = Math.max(
    mtime(path.join(root, 'package-lock.json')),
    ...readdirSync(WEB, { recursive: true }).map((name) => mtime(path.join(WEB, String(name)))),
  );
  return mtime(WEB_STAMP) < newest;
}

/** Builds the settings page when its sources changed since the last build; false when it did not need to. */
async function buildWeb() {
  if (!webStale()) return false;
  const built = mtime(WEB_STAMP);
  let vite;
  try {
    vite = await import('vite');
  } catch {
    // An install without devDependencies: a page built before is served as it is.
    process.stderr.write(`build: the settings page needs Vite (a devDependency) to be built; ${built < 0 ? 'it will answer 503' : 'serving the last build'}\n`);
    return false;
  }
  await vite.build({ configFile: path.join(WEB, 'vite.config.mjs'), logLevel: 'warn' });
  writeFileSync(WEB_STAMP, `${new Date().toISOString()}\n`);
  return true;
}

/**
 * The service in one file, which `npm start` runs (scripts/start.mjs): esbuild bundles dist/src
 * (swc's output, decorator metadata included) from main.js. Loading it reads one file instead of
 * about 2,200 modules, each found, read and compiled on its own (about 480 ms of a start's module
 * loading became 360 ms; with the code cache start.mjs keeps, 200 ms). `node dist/src/main.js`
 * stays what it was: tests, CI's checks of a second process and production run it.
 *
 * Left outside, loaded from node_modules as before: what finds files of its own beside its
 * modules (PGlite's WebAssembly and data, which the database's thread loads, not this file), and
 * what start-up never loads (the GraphQL IDE's page, the provider SDKs on a first run, the
 * tracing SDK: a start with tracing runs dist/src instead, whose modules its hooks can patch).
 */
export const SERVICE_BUNDLE = path.join(out, 'service.js');
const BUNDLE_ENTRY = path.join(out, 'src', 'main.js');
const BUNDLE_EXTERNAL = [
  '@electric-sql/pglite',
  '@electric-sql/pglite-socket',
  'pg-native',
  '@graphql-yoga/render-graphiql',
  '@anthropic-ai/sdk',
  'openai',
  '@opentelemetry/*',
];

/** True when a module of dist/src (or a setting of the build) is newer than the bundle. */
function bundleStale() {
  const built = mtime(SERVICE_BUNDLE);
  if (built < 0) return true;
  if (built < newestSetting()) return true;
  const dir = path.join(out, 'src');
  return readdirSync(dir, { recursive: true }).some((name) => String(name).endsWith('.js') && mtime(path.join(dir, String(name))) > built);
}

async function buildBundle() {
  if (!bundleStale()) return false;
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    // An install without devDependencies: start.mjs runs dist/src/main.js instead.
    rmSync(SERVICE_BUNDLE, { force: true });
    return false;
  }
  const bundleDir = path.dirname(SERVICE_BUNDLE);
  // A module of dist/src that finds files from its own directory (the migrations, the settings
  // page) keeps that directory in the bundle.
  const ownDirectories = {
    name: 'own-directories',
    setup(build) {
      build.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, async (args) => {
        const { readFileSync } = await import('node:fs');
        let contents = readFileSync(args.path, 'utf8');
        if (/\b__dirname\b/.test(contents)) {
          const relative = path.relative(bundleDir, path.dirname(args.path)).split(path.sep).join('/');
          contents = `const __dirname = require("node:path").join(__service_dir, ${JSON.stringify(relative)});\n${contents}`;
        }
        return { contents, loader: 'js' };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [BUNDLE_ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: BUNDLE_EXTERNAL,
    // The file is the function that start.mjs calls as Node.js calls a CommonJS module: compiled
    // as it stands, without a wrapped copy of its 11 MB (`node dist/service.js` does nothing).
    banner: { js: '(function (exports, require, module, __filename, __dirname) {\nconst __service_dir = __dirname;' },
    footer: { js: '})' },
    plugins: [ownDirectories],
    // type-graphql names GraphQL types after classes.
    keepNames: true,
    write: false,
    logLevel: 'warning',
    outfile: SERVICE_BUNDLE,
  });
  // esbuild escapes what is not ASCII in code, not in comments: a comment's ellipsis would make
  // V8 keep the whole source as two bytes a character (23 MB instead of 11).
  const text = result.outputFiles[0].text.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  writeAtomically(SERVICE_BUNDLE, text);
  return true;
}

/** Whether every source has its module in dist/, and no module is left of a source that is gone. Reads file times only. */
export function sourcesUpToDate() {
  const { stale, orphans } = compileState();
  return stale.length === 0 && orphans.length === 0;
}

export { bundleStale, webStale, writeAtomically };

/**
 * What to build: the sources and the settings page unless told otherwise; with --bundle the
 * bundle as well; with --only=sources,web,bundle (any of them) those alone.
 */
function parts(argv) {
  const only = argv.find((arg) => arg.startsWith('--only='));
  if (only) return new Set(only.slice('--only='.length).split(','));
  return new Set(['sources', 'web', ...(argv.includes('--bundle') ? ['bundle'] : [])]);
}

async function main() {
  if (process.argv.includes('--background')) {
    // Before esbuild's process and Vite's threads exist, which take this priority on.
    try {
      os.setPriority(10);
    } catch {
      // not allowed: the build runs at the priority it was given
    }
  }
  const verbose = process.argv.includes('--verbose');
  const wanted = parts(process.argv);
  if (wanted.has('sources')) {
    const { compiled, removed, ms } = build();
    if (compiled > 0 || removed > 0 || verbose) {
      process.stderr.write(`build: ${compiled} file(s) compiled, ${removed} removed, ${Math.round(ms)} ms\n`);
    }
  }
  const timed = async (part, work) => {
    const started = performance.now();
    return { done: wanted.has(part) && (await work()), ms: Math.round(performance.now() - started) };
  };
  // Side by side: esbuild works in a process of its own, Vite mostly in native code.
  const [bundle, web] = await Promise.all([timed('bundle', buildBundle), timed('web', buildWeb)]);
  if (bundle.done || (verbose && wanted.has('bundle'))) {
    process.stderr.write(`build: service bundle ${bundle.done ? 'built' : statSync(SERVICE_BUNDLE, { throwIfNoEntry: false }) ? 'up to date' : 'absent'}, ${bundle.ms} ms\n`);
  }
  if (web.done || (verbose && wanted.has('web'))) {
    process.stderr.write(`build: settings page ${web.done ? 'built' : statSync(WEB_STAMP, { throwIfNoEntry: false }) ? 'up to date' : 'absent'}, ${web.ms} ms\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) await main();
