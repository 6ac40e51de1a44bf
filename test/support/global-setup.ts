import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { EMBEDDED_TEMPLATE_ENV, TEMPLATE_ENV, createTemplate, serverUrl } from './database';
import { RUN_LOG_DIR_ENV, createRunLogDirectory } from './run-logs';

export default async function globalSetup(): Promise<void> {
  const logs = createRunLogDirectory();
  process.env[RUN_LOG_DIR_ENV] = logs;
  const server = serverUrl();
  if (server) {
    process.env[TEMPLATE_ENV] = await createTemplate(server);
    return;
  }
  // Beside the run's logs, so the teardown removes it with them. Made in a process of its own:
  // PGlite's memory would otherwise stay with jest's parent process for the whole run.
  const file = path.join(logs, '..', `${path.basename(logs)}-embedded-template`);
  execFileSync(process.execPath, ['-r', 'ts-node/register', path.join(__dirname, 'embedded-template.ts'), file], {
    cwd: path.join(__dirname, '../..'),
    env: { ...process.env, TS_NODE_SWC: 'true', NODE_OPTIONS: '' },
    stdio: 'inherit',
  });
  process.env[EMBEDDED_TEMPLATE_ENV] = file;
}
