/**
 * With TEST_DATABASE_URL (or DATABASE_URL) set, tests run on that PostgreSQL server, each file on
 * its own copy of a migrated template database. Without, files run on an embedded PostgreSQL
 * (PGlite) on a copy of a migrated data directory that the global setup made. Two files at a time
 * either way. The test environment (test/support/test-environment.ts) keeps a worker's embedded
 * database from file to file and collects each file's garbage when it ends (`npm test` exposes gc);
 * a worker that still grew past the memory limit is replaced after its file, so the run's memory
 * stays flat.
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
