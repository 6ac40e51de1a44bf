import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DATABASES_DIR_ENV, EMBEDDED_TEMPLATE_ENV, TEMPLATE_ENV, createTemplate, serverUrl } from './database';
import { RUN_LOG_DIR_ENV, createRunLogDirectory } from './run-logs';

const ROOT = path.join(__dirname, '../..');
/** Migrated embedded data directories kept from run to run, one per `templateKey()` (`npm ci` clears them). */
const TEMPLATE_CACHE = path.join(ROOT, 'node_modules/.cache/byom-embedded-template');

export default async function globalSetup(): Promise<void> {
  const logs = createRunLogDirectory();
  process.env[RUN_LOG_DIR_ENV] = logs;
  const server = serverUrl();
  if (server) {
    process.env[TEMPLATE_ENV] = await createTemplate(server);
    return;
  }
  // Beside the run's logs, so the teardown removes it with them.
  const databases = `${logs}-databases`;
  mkdirSync(databases);
  process.env[DATABASES_DIR_ENV] = databases;
  process.env[EMBEDDED_TEMPLATE_ENV] = embeddedTemplate(databases);
}

/**
 * What the migrated template is made of: the migrations, PGlite's version and how the service
 * starts it. A change to any of them makes a new template; the same ones reuse the last run's.
 */
function templateKey(): string {
  const hash = createHash('sha256');
  const migrations = path.join(ROOT, 'migrations');
  for (const name of readdirSync(migrations).sort()) hash.update(name).update(readFileSync(path.join(migrations, name)));
  hash.update(readFileSync(path.join(ROOT, 'node_modules/@electric-sql/pglite/package.json')));
  hash.update(readFileSync(path.join(ROOT, 'src/database/embedded-postgres.ts')));
  hash.update(readFileSync(path.join(ROOT, 'src/database/database.ts')));
  hash.update(readFileSync(__filename));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The migrated embedded data directory that test files copy: made once (initdb and the
 * migrations, about 6 s) and kept for the next run with the same `templateKey()`.
 */
function embeddedTemplate(databases: string): string {
  const cached = path.join(TEMPLATE_CACHE, templateKey());
  if (existsSync(path.join(cached, 'PG_VERSION'))) return cached;
  const made = path.join(databases, 'template');
  // In a process of its own: PGlite's memory would otherwise stay with jest's parent process for the whole run.
  execFileSync(process.execPath, ['-r', 'ts-node/register', path.join(__dirname, 'embedded-template.ts'), made], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_SWC: 'true', NODE_OPTIONS: '' },
    stdio: 'inherit',
  });
  try {
    mkdirSync(TEMPLATE_CACHE, { recursive: true });
    // A rename: a run that starts meanwhile finds the whole directory or none.
    renameSync(made, cached);
  } catch {
    // Another run stored one at the same moment, or the cache cannot be written: this run uses its own.
    return made;
  }
  // Templates of other keys are of no more use.
  for (const name of readdirSync(TEMPLATE_CACHE)) {
    if (name !== path.basename(cached)) rmSync(path.join(TEMPLATE_CACHE, name), { recursive: true, force: true });
  }
  return cached;
}
