#!/usr/bin/env node
/**
 * `npm run build`: compiles src/, migrations/ and ormconfig.ts into dist/ with swc, one file at a
 * time and only what changed since its last build, so `npm start` with nothing changed costs no
 * compile. Types are checked by `npm run typecheck` (tsc), which CI runs; swc only strips them.
 * The options are those jest uses (jest.config.js), so tests and the service run the same code.
 * Then the settings page: web/ into dist/web with Vite, only when a file of web/ (or the lock
 * file) is newer than the last build of it.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

function build() {
  const started = performance.now();
  const newestSetting = Math.max(...settings.map((file) => mtime(path.join(root, file))));
  const files = inputs.flatMap(sources);
  const wanted = new Set(files.map((file) => file.replace(/\.ts$/, '.js')));
  const stale = files.filter((file) => {
    const built = mtime(path.join(out, file.replace(/\.ts$/, '.js')));
    return built < mtime(path.join(root, file)) || built < newestSetting;
  });

  let removed = 0;
  for (const entry of inputs.filter((entry) => !entry.endsWith('.ts'))) {
    const dir = path.join(out, entry);
    if (!statSync(dir, { throwIfNoEntry: false })) continue;
    for (const name of readdirSync(dir, { recursive: true }).map(String)) {
      const relative = path.join(entry, name);
      // A source that was deleted or renamed leaves no module behind (migrations are found by glob).
      if (relative.endsWith('.js') && !wanted.has(relative)) {
        rmSync(path.join(out, relative));
        rmSync(path.join(out, `${relative}.map`), { force: true });
        removed += 1;
      }
    }
  }
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

/** Builds the settings page when its sources changed since the last build; false when it did not need to. */
async function buildWeb() {
  if (!statSync(WEB, { throwIfNoEntry: false })) return false;
  const built = mtime(WEB_STAMP);
  const newest = Math.max(
    mtime(path.join(root, 'package-lock.json')),
    ...readdirSync(WEB, { recursive: true }).map((name) => mtime(path.join(WEB, String(name)))),
  );
  if (built >= newest) return false;
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

const { compiled, removed, ms } = build();
if (compiled > 0 || removed > 0 || process.argv.includes('--verbose')) {
  process.stderr.write(`build: ${compiled} file(s) compiled, ${removed} removed, ${Math.round(ms)} ms\n`);
}
const webStarted = performance.now();
const webBuilt = await buildWeb();
if (webBuilt || process.argv.includes('--verbose')) {
  process.stderr.write(`build: settings page ${webBuilt ? 'built' : statSync(WEB_STAMP, { throwIfNoEntry: false }) ? 'up to date' : 'absent'}, ${Math.round(performance.now() - webStarted)} ms\n`);
}
