/**
 * The DataSource the TypeORM CLI uses (`npm run typeorm -- migration:generate migrations/Name`).
 * With DATABASE_URL it works on that server; without, on the embedded database under .data/.
 */
import 'reflect-metadata';
import path from 'node:path';
import { createDataSource } from './src/database/data-source';
import { EMBEDDED_POOL_SIZE, startEmbeddedPostgres } from './src/database/embedded-postgres';

async function cliDataSource() {
  const url = process.env.DATABASE_URL;
  if (url) return createDataSource({ url, poolSize: 2, applicationName: 'typeorm-cli' });

  const embedded = await startEmbeddedPostgres(path.resolve(process.env.DATA_DIR ?? '.data', 'pglite'));
  const dataSource = createDataSource({ url: embedded.url, poolSize: EMBEDDED_POOL_SIZE, applicationName: 'typeorm-cli' });
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    await destroy();
    await embedded.stop();
  };
  return dataSource;
}

export default cliDataSource();
