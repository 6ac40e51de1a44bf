import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { signDevToken } from '../../src/auth/dev-token';
import { parseConfig } from '../../src/config';
import { openDatabase } from '../../src/database/database';
import type { SqlLogger } from '../../src/database/sql-logger';
import { createLogger } from '../../src/logger';
import { type App, createApp } from '../../src/server';
import type { RoutingOptions } from '../../src/services';
import { createTestDatabase } from './database';
import { runLogWriter } from './run-logs';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const TEST_ENCRYPTION_KEYS = `test:${Buffer.alloc(32, 7).toString('base64')}`;

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data: T | null | undefined;
  errors: { message: string; path?: (string | number)[]; extensions: { code: string; [key: string]: unknown } }[] | undefined;
  headers: Headers;
}

export interface RequestOptions {
  variables?: Record<string, unknown>;
  /** A user id to sign a token for, or a raw token (`{ raw }`); none sends no Authorization. */
  as?: string | { operator: string } | { raw: string };
  headers?: Record<string, string>;
}

/** The platform operator `ops`, as tests call (`{ as: OPERATOR }`). */
export const OPERATOR = { operator: 'ops' };

export interface TestServerOptions {
  /** The URL the server is given for its database, from the test database's own (e.g. through a TcpProxy). */
  databaseUrl?: (url: string) => string;
  /** Another model catalog and a clock the test moves (test/support/routing.ts). */
  routing?: RoutingOptions;
}

export interface TestServer {
  url: string;
  /** The test database's own URL (never through a proxy). */
  databaseUrl: string;
  app: App;
  dataSource: DataSource;
  sqlLogger: SqlLogger;
  /** Every log line the server wrote, as JSON text. */
  logs: string[];
  graphql<T = Record<string, any>>(query: string, options?: RequestOptions): Promise<GraphQLResponse<T>>;
  token(userId: string, options?: { operator?: boolean; ttl?: string }): Promise<string>;
  /** How many SQL statements `work` caused. */
  countStatements(work: () => Promise<unknown>): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the real app over HTTP on a loopback port, on the test file's own database. */
export async function startTestServer(env: Record<string, string> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    BYOM_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    DATABASE_URL: options.databaseUrl ? options.databaseUrl(database.url) : database.url,
    DATABASE_POOL_SIZE: String(database.poolSize),
    ...(database.connectTimeoutMs ? { DATABASE_CONNECT_TIMEOUT_MS: String(database.connectTimeoutMs) } : {}),
    // No load balancer watches a test's server: it stops at once, in production too, unless the test drains.
    SHUTDOWN_DRAIN_MS: '0',
    ...env,
  });
  const logs: string[] = [];
  const toRunLog = runLogWriter();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const lines = String(chunk).split('\n').filter(Boolean);
      logs.push(...lines);
      toRunLog(lines);
      done();
    },
  });
  const logger = createLogger(config.logLevel, { destination: sink });
  const opened = await openDatabase(config, logger);
  const app = await createApp({ config, dataSource: opened.dataSource, logger, routing: options.routing });
  const url = await app.listen(0, '127.0.0.1');

  const token = (userId: string, options: { operator?: boolean; ttl?: string } = {}) =>
    signDevToken(TEST_JWT_SECRET, { sub: userId, operator: options.operator, ttl: options.ttl });

  async function authorization(as: RequestOptions['as']): Promise<string | undefined> {
    if (as === undefined) return undefined;
    if (typeof as === 'string') return `Bearer ${await token(as)}`;
    if ('raw' in as) return as.raw;
    return `Bearer ${await token(as.operator, { operator: true })}`;
  }

  return {
    url,
    databaseUrl: database.url,
    app,
    dataSource: opened.dataSource,
    sqlLogger: opened.sqlLogger,
    logs,
    token,
    async graphql(query, options = {}) {
      const auth = await authorization(options.as);
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(auth ? { authorization: auth } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ query, variables: options.variables }),
      });
      const body = (await response.json()) as { data?: any; errors?: any };
      return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
    },
    async countStatements(work) {
      const before = opened.sqlLogger.statements;
      await work();
      return opened.sqlLogger.statements - before;
    },
    async stop() {
      await app.stop(); // a second stop, after a test's own, is harmless
      await opened.close();
      await database.drop();
    },
  };
}
