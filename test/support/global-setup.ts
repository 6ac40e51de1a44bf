import { TEMPLATE_ENV, createTemplate, serverUrl } from './database';

export default async function globalSetup(): Promise<void> {
  const server = serverUrl();
  if (server) process.env[TEMPLATE_ENV] = await createTemplate(server);
}
