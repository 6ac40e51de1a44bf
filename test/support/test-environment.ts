import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import vm from 'node:vm';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { DATABASES_DIR_ENV, EMBEDDED_TEMPLATE_ENV, WORKER_DATABASE_GLOBAL, WORKER_DATABASE_KEY, type WorkerDatabase, workerDatabase } from './worker-database';

/**
 * jest's node environment, and what a worker keeps from one test file to the next. This module is
 * loaded once per worker, so what it holds outlives each file:
 * - the worker's embedded database (test/support/worker-database.ts) for runs without a database
 *   server, made on the first file that asks for it;
 * - the performance observers that a file's modules started, disconnected when the file ends.
 *   Node's perf_hooks are shared by every file of a worker, so an observer never disconnected
 *   (prom-client's GC metric starts one per app, for the process's life) would keep the file's
 *   whole module registry alive, tens of MB a file, and be called on every later GC;
 * - V8's code of every module the worker compiled (`compileCached`).
 *
 * What else kept a finished file alive, found in heap snapshots: jest runs each test in an async
 * context whose store holds the test, its function and so the file; every timer, socket or server
 * made during a test keeps that store. One such resource that outlives the file (the worker's
 * database server, a pending timer of the process) kept the whole file, about 30 MB. So the
 * worker's database starts outside any test's context (test/support/worker-database.ts), and when
 * a file's tests have run, their functions and hooks are let go of (`handleTestEvent`): a store
 * that outlives the file then holds the test's name and result, not the file.
 *
 * `BYOM_TEST_MEMORY_LOG=<file>` appends a line per test file: its wall and CPU time (this worker's
 * only), the worker's memory when it started and ended, and how many modules it compiled from the
 * worker's code cache.
 */
let shared: WorkerDatabase | undefined;

function sharedDatabase(): WorkerDatabase | undefined {
  const template = process.env[EMBEDDED_TEMPLATE_ENV];
  const directory = process.env[DATABASES_DIR_ENV];
  if (!template || !directory) return undefined;
  if (!shared) {
    shared = workerDatabase(template, path.join(directory, `worker-${process.pid}`));
    // A run in band (`jest -i`) has no worker process to end: its global teardown, in this same
    // process but with modules of its own, finds the database here and closes it.
    (globalThis as Record<symbol, unknown>)[WORKER_DATABASE_KEY] = shared;
  }
  return shared;
}

const observing = new Set<PerformanceObserver>();
const observe = PerformanceObserver.prototype.observe;
PerformanceObserver.prototype.observe = function (this: PerformanceObserver, ...args: Parameters<PerformanceObserver['observe']>) {
  observing.add(this);
  return observe.apply(this, args);
};

/**
 * jest compiles every module anew for every test file (each file has a module registry of its
 * own), about 0.5 s of CPU a file that loads the app. The code V8 made for a module the first time
 * is kept and given back to V8 the next time the same file is compiled; V8 checks that it was made
 * from the same source and refuses it otherwise (the module is then compiled as before, and the
 * next compile of it keeps its code anew). A module whose source holds `import(` is always
 * compiled as before: on Node 20 a function compiled from cached data loses its dynamic import
 * callback.
 */
const codeCache = new Map<string, Buffer>();
const compiles = { cached: 0, compiled: 0, refused: 0 };
const compileFunction = vm.compileFunction;
vm.compileFunction = function compileCached(code: string, params?: string[], options?: vm.CompileFunctionOptions) {
  const filename = options?.filename;
  if (!filename || code.includes('import(')) {
    compiles.compiled += 1;
    return compileFunction(code, params, options);
  }
  const cachedData = codeCache.get(filename);
  const compiled: ReturnType<typeof compileFunction> & { cachedData?: Buffer; cachedDataRejected?: boolean } = compileFunction(code, params, {
    ...options,
    ...(cachedData ? { cachedData } : { produceCachedData: true }),
  });
  if (cachedData && !compiled.cachedDataRejected) {
    compiles.cached += 1;
    return compiled;
  }
  if (cachedData) compiles.refused += 1;
  compiles.compiled += 1;
  if (compiled.cachedData) codeCache.set(filename, compiled.cachedData);
  else codeCache.delete(filename);
  return compiled;
} as typeof vm.compileFunction;

interface CircusBlock {
  type: 'describeBlock' | 'test';
  fn?: unknown;
  hooks?: { fn?: unknown }[];
  children?: CircusBlock[];
}

const MB = 1024 * 1024;
const megabytes = (bytes: number) => Math.round(bytes / MB);

export default class BYOMTestEnvironment extends TestEnvironment {
  private readonly file: string;
  /** Taken once super() made the file's context. */
  private readonly started = { at: Date.now(), cpu: process.cpuUsage(), memory: process.memoryUsage(), compiles: { ...compiles } };

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.file = path.relative(config.globalConfig.rootDir, context.testPath);
    const database = sharedDatabase();
    if (database) this.global[WORKER_DATABASE_GLOBAL] = database;
  }

  /** Once the file's tests have run: their functions and hooks go, their names and results stay. */
  handleTestEvent(event: { name: string }, state: { rootDescribeBlock: CircusBlock }): void {
    if (event.name !== 'run_finish') return;
    const release = (block: CircusBlock) => {
      for (const hook of block.hooks ?? []) hook.fn = undefined;
      for (const child of block.children ?? []) {
        if (child.type === 'describeBlock') release(child);
        else child.fn = undefined;
      }
    };
    release(state.rootDescribeBlock);
  }

  override async teardown(): Promise<void> {
    for (const observer of observing) observer.disconnect();
    observing.clear();
    await super.teardown();
    const log = process.env.BYOM_TEST_MEMORY_LOG;
    if (log) {
      const cpu = process.cpuUsage(this.started.cpu);
      const [before, after] = [this.started.memory, process.memoryUsage()];
      const line = {
        file: this.file,
        pid: process.pid,
        wallMs: Date.now() - this.started.at,
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        startMB: { rss: megabytes(before.rss), heapUsed: megabytes(before.heapUsed), external: megabytes(before.external) },
        modules: Object.fromEntries(Object.entries(compiles).map(([kind, count]) => [kind, count - this.started.compiles[kind as keyof typeof compiles]])),
        endMB: { rss: megabytes(after.rss), heapUsed: megabytes(after.heapUsed), external: megabytes(after.external) },
      };
      appendFileSync(log, `${JSON.stringify(line)}\n`);
    }
  }
}
