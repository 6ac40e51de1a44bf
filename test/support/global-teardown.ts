import { TEMPLATE_ENV, dropDatabase, serverUrl } from './database';

export default async function globalTeardown(): Promise<void> {
  const server = serverUrl();
  const template = process.env[TEMPLATE_ENV];
  if (server && template) await dropDatabase(server, template);
}
