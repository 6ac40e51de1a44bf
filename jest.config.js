/**
 * With TEST_DATABASE_URL (or DATABASE_URL) set, tests run on that PostgreSQL server, two files at
 * a time, each on its own copy of a migrated template database. Without, each file runs on an
 * in-memory embedded PostgreSQL (PGlite), one file at a time.
 */
const onServer = Boolean(process.env.TEST_DATABASE_URL || process.env.DATABASE_URL);

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
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
  maxWorkers: onServer ? 2 : 1,
  testTimeout: 60_000,
};
