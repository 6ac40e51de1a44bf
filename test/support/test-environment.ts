import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { DATABASES_DIR_ENV, EMBEDDED_TEMPLATE_ENV, WORKER_DATABASE_GLOBAL, type WorkerDatabase, workerDatabase } from './worker-database';

/**
 * jest's node environment, and what a worker keeps from one test file to the next. This module is
 * loaded once per worker, so what it holds outlives each file:
 * - the worker's embedded database (test/support/worker-database.ts) for runs without a database
 *   server, made on the first file that asks for it;
 * - the performance observers that a file's modules started, disconnected when the file ends.
 *   Node's perf_hooks are shared by every file of a worker, so an observer never disconnected
 *   (prom-client's GC metric starts one per app, for the process's life) would keep the file's
 *   whole module registry alive, tens of MB a file, and be called on every later GC.
 */
let shared: WorkerDatabase | undefined;

function sharedDatabase(): WorkerDatabase | undefined {
  const template = process.env[EMBEDDED_TEMPLATE_ENV];
  const directory = process.env[DATABASES_DIR_ENV];
  if (!template || !directory) return undefined;
  shared ??= workerDatabase(template, path.join(directory, `worker-${process.pid}`));
  return shared;
}

const observing = new Set<PerformanceObserver>();
const observe = PerformanceObserver.prototype.observe;
PerformanceObserver.prototype.observe = function (this: PerformanceObserver, ...args: Parameters<PerformanceObserver['observe']>) {
  observing.add(this);
  return observe.apply(this, args);
};

export default class BYOMTestEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const database = sharedDatabase();
    if (database) this.global[WORKER_DATABASE_GLOBAL] = database;
  }

  override async teardown(): Promise<void> {
    for (const observer of observing) observer.disconnect();
    observing.clear();
    await super.teardown();
    // What the file loaded is garbage now: collected at once (npm test exposes gc), the next
    // file reuses its memory instead of the worker growing until jest replaces it.
    (globalThis as { gc?: () => void }).gc?.();
  }
}
