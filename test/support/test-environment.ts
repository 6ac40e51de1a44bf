import path from 'node:path';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { EMBEDDED_TEMPLATE_ENV, WORKER_DATABASE_GLOBAL, type WorkerDatabase, workerDatabase } from './worker-database';

/**
 * jest's node environment, and the worker's embedded database (test/support/worker-database.ts)
 * for runs without a database server. This module is loaded once per worker, so what it holds
 * outlives each test file; it is made on the first file that asks for it.
 */
let shared: WorkerDatabase | undefined;

function sharedDatabase(): WorkerDatabase | undefined {
  const template = process.env[EMBEDDED_TEMPLATE_ENV];
  if (!template) return undefined;
  shared ??= workerDatabase(template, path.join(path.dirname(template), `${path.basename(template)}-worker-${process.pid}`));
  return shared;
}

export default class BYOMTestEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const database = sharedDatabase();
    if (database) this.global[WORKER_DATABASE_GLOBAL] = database;
  }
}
