/**
 * The DataSource the TypeORM CLI uses (`npm run migration:generate -- migrations/Name`).
 * With DATABASE_URL it works on that server; without, on the embedded database under .data/
 * (stop the service first: the embedded database is one process's).
 */
import 'reflect-metadata';
import path from 'node:path';
import { parseConfig } from './src/config';
import { createDataSource } from './src/database/data-source';
import { EMBEDDED_POOL_SIZE, startEmbeddedPostgres } from './src/database/embedded-postgres';

async function cliDataSource() {
  const { databaseUrl, dataDir } = parseConfig(process.env);
  if (databaseUrl) return createDataSource({ url: databaseUrl, poolSize: 2, applicationName: 'typeorm-cli' });

  const embedded = await startEmbeddedPostgres(path.join(dataDir, 'pglite'));
  const dataSource = createDataSource({ url: embedded.url, poolSize: EMBEDDED_POOL_SIZE, applicationName: 'typeorm-cli' });
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    await destroy();
    await embedded.stop();
  };
  return dataSource;
}

export default cliDataSource();
