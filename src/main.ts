/** Start-up only: configuration, database, server, signals. */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { ConfigError, loadConfig } from './config';
import { type Database, openDatabase } from './database/database';
import { createLogger } from './logger';
import { type App, createApp } from './server';

const SHUTDOWN_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  const startedAt = performance.now();
  let loaded;
  try {
    loaded = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`byom-subgraph cannot start. ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const { config, notices } = loaded;
  const logger = createLogger(config.logLevel);
  for (const notice of notices) logger.warn(notice);

  let database: Database;
  try {
    database = await openDatabase(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'cannot open the database');
    process.exit(1);
  }
  logger.info(`database: ${database.description}`);

  let app: App;
  let url: string;
  try {
    app = await createApp({ config, dataSource: database.dataSource, logger });
    url = await app.listen(config.port);
  } catch (error) {
    logger.fatal({ err: error }, 'cannot start the server');
    await database.close().catch(() => undefined);
    process.exit(1);
  }
  logger.info({ url, startupMs: Math.round(performance.now() - startedAt) }, `byom-subgraph ready at ${url}`);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      await app.stop();
      logger.info('HTTP server closed');
      await database.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main();
