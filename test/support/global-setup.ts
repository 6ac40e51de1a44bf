import path from 'node:path';
import { EMBEDDED_TEMPLATE_ENV, TEMPLATE_ENV, createEmbeddedTemplate, createTemplate, serverUrl } from './database';
import { RUN_LOG_DIR_ENV, createRunLogDirectory } from './run-logs';

export default async function globalSetup(): Promise<void> {
  const logs = createRunLogDirectory();
  process.env[RUN_LOG_DIR_ENV] = logs;
  const server = serverUrl();
  if (server) {
    process.env[TEMPLATE_ENV] = await createTemplate(server);
  } else {
    // Beside the run's logs, so the teardown removes it with them.
    const file = path.join(logs, '..', `${path.basename(logs)}-embedded-template.tar`);
    await createEmbeddedTemplate(file);
    process.env[EMBEDDED_TEMPLATE_ENV] = file;
  }
}
