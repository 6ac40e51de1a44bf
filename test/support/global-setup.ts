import { TEMPLATE_ENV, createTemplate, serverUrl } from './database';
import { RUN_LOG_DIR_ENV, createRunLogDirectory } from './run-logs';

export default async function globalSetup(): Promise<void> {
  process.env[RUN_LOG_DIR_ENV] = createRunLogDirectory();
  const server = serverUrl();
  if (server) process.env[TEMPLATE_ENV] = await createTemplate(server);
}
