/**
 * With TEST_DATABASE_URL (or DATABASE_URL) set, tests run on that PostgreSQL server, each file on
 * its own copy of a migrated template database. Without, files run on an embedded PostgreSQL
 * (PGlite) on a copy of a migrated data directory that the global setup made. Two files at a
 * time either way. (Three on 2 cores took 87-89 s instead of 90-93 s, as a fifth of the suite's
 * time is files waiting for what they spawned or for timers, but the deadline tests of
 * test/runs/stopping.e2e.test.ts then missed their margins, and the tree held 0.5 GB more.) The test
 * environment (test/support/test-environment.ts) keeps a worker's embedded database from file to
 * file; a worker that grew past the memory limit is replaced after its file, so the run's memory
 * stays flat. No collection is forced between files: two after every file cost a quarter of the
 * workers' CPU (0.1-0.3 s each, marking what the worker holds), and one whenever the heap passed
 * 384 MB kept workers from being replaced and cost more still.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/support/test-environment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // jose ships only ES modules.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  maxWorkers: 2,
  workerIdleMemoryLimit: '500MB',
  testTimeout: 60_000,
};
