/**
 * The DataSource the TypeORM CLI uses (`npm run migration:generate -- migrations/Name`).
 * With DATABASE_URL it works on that server; without, on the embedded database under .data/
 * (it refuses while the service has it open: the embedded database is one process's).
 */
import 'reflect-metadata';
import { parseConfig } from './src/config';
import { DataDirLockedError, claimDataDir } from './src/database/data-dir-lock';
import { createDataSource } from './src/database/data-source';
import { EMBEDDED_POOL_SIZE, startEmbeddedPostgres } from './src/database/embedded-postgres';
import { embeddedDataDir } from './src/database/embedded-thread';

async function cliDataSource() {
  const config = parseConfig(process.env);
  if (config.databaseUrl) return createDataSource({ url: config.databaseUrl, poolSize: 2, applicationName: 'typeorm-cli' });

  let lock;
  try {
    lock = claimDataDir(config, 'migrations');
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    process.stderr.write(`Cannot open the embedded database: ${error.message}\n`);
    process.exit(1);
  }
  const embedded = await startEmbeddedPostgres({ dataDir: embeddedDataDir(config) });
  const dataSource = createDataSource({ url: embedded.url, poolSize: EMBEDDED_POOL_SIZE, applicationName: 'typeorm-cli' });
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    await destroy();
    await embedded.stop();
    lock?.release();
  };
  return dataSource;
}

export default cliDataSource();
