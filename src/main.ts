/** Start-up only: configuration, the data directory's lock, the port, database, server, signals. */
// Tracing, when configured, starts before anything it instruments is loaded: this import stays first.
import './telemetry/start';
import 'reflect-metadata';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { ConfigError, parseConfig, withDevSecrets } from './config';
import { DataDirLockedError, claimDataDir } from './database/data-dir-lock';
import type { Database } from './database/database';
import { createHttpServer, listen } from './http-limits';
import { createLogger } from './logger';
import type { App } from './server';
import { shutdownPlan } from './stopping';
import { shutdownTelemetry, untraced } from './telemetry/tracing-slot';

/** A reason to stop before anything was opened: one line, no stack. */
function refuse(message: string): never {
  process.stderr.write(`byom-subgraph cannot start: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  let parsed;
  try {
    parsed = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) refuse(error.message);
    throw error;
  }

  // The data directory first: a second process must touch nothing, not even the port.
  let lock;
  try {
    lock = claimDataDir(parsed, 'the service');
  } catch (error) {
    if (error instanceof DataDirLockedError) refuse(error.message);
    throw error;
  }
  // Then the port, before the database is opened: a busy one is told at once. Until the app is
  // ready, requests get 503 "starting".
  const startingListener: http.RequestListener = (_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"status":"starting"}');
  };
  const httpServer = createHttpServer(parsed.http, startingListener);
  try {
    // Connections inherit the listening socket's context: tracing suppressed, until a traced request's is entered.
    await untraced(() => listen(httpServer, parsed.port, parsed.host));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') refuse(`port ${parsed.port} is in use; set PORT`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') refuse(`HOST ${parsed.host} is not an address of this machine; set HOST`);
    if (code === 'EACCES') refuse(`port ${parsed.port} needs privileges this process lacks; set PORT`);
    throw error;
  }

  const { config, notices } = withDevSecrets(parsed);
  const logger = createLogger(config.logLevel, { pretty: config.prettyLogs, buffered: true });
  for (const notice of notices) logger.warn(notice);

  // The embedded database starts first, in a thread of its own (a new data directory is made in
  // a process of its own), and opens while the heavy modules (GraphQL, TypeORM) load and the
  // schema is built, which need none. They load only once the directory and the port are this
  // process's, so a refusal is told at once. The connections wait for that work, which blocks
  // the event loop (and would eat their connect timeout).
  const { startEmbedded } = require('./database/embedded-thread') as typeof import('./database/embedded-thread');
  const embedded = config.databaseUrl ? undefined : startEmbedded(config);
  embedded?.catch(() => undefined); // awaited by openDatabase
  const { openDatabase } = require('./database/database') as typeof import('./database/database');
  let mainThreadDone!: () => void;
  const opening = openDatabase(config, logger, { connectAfter: new Promise<void>((resolve) => (mainThreadDone = resolve)), embedded });
  opening.catch(() => undefined); // awaited below
  const { buildAppSchema, createApp } = require('./server') as typeof import('./server');
  const schema = buildAppSchema(config);
  await schema.catch(() => undefined); // its failure is told by createApp below
  mainThreadDone();
  let database: Database;
  try {
    database = await opening;
  } catch (error) {
    logger.fatal({ err: error }, 'cannot open the database');
    process.exit(1);
  }
  logger.info(`database: ${database.description}`);

  let app: App;
  let url: string;
  try {
    app = await createApp({ config, dataSource: database.dataSource, logger, httpServer: { server: httpServer, startingListener }, schema: await schema });
    url = await app.listen(config.port, config.host);
  } catch (error) {
    logger.fatal({ err: error }, 'cannot start the server');
    await database.close().catch(() => undefined);
    process.exit(1);
  }
  logger.info({ url, startupMs: Math.round(performance.now() - startedAt) }, `byom-subgraph ready at ${url}`);
  // scripts/start.mjs writes its code cache now, when start-up has compiled what it needs.
  (process as NodeJS.EventEmitter).emit('byom:ready');

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    // Readiness answers 503 at once; requests are still served while load balancers notice.
    app.markStopping();
    const { drainMs, graceMs, exitAfterMs } = shutdownPlan(config);
    logger.info({ signal, drainMs, graceMs, exitAfterMs }, 'shutting down: readiness 503, draining, then finishing requests in flight');
    const timer = setTimeout(() => {
      logger.error({ exitAfterMs }, 'shutdown took too long; exiting');
      logger.flush();
      process.exit(1);
    }, exitAfterMs);
    timer.unref();
    try {
      // Every run is written before the database closes: stop() resolves once each one is.
      await app.stop();
      logger.info('HTTP server closed; every run recorded');
      await database.close();
      lock?.release();
      // The last spans go out before the process does.
      await shutdownTelemetry();
      logger.info('stopped');
      logger.flush();
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
