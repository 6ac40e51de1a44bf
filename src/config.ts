import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type EncryptionKey, parseKeyRing } from './connections/key-vault';


export interface Config {
  isProduction: boolean;
  port: number;
  /** The address to listen on; undefined: every interface. */
  host: string | undefined;
  /** What one HTTP client may cost (src/http-limits.ts). */
  http: HttpLimits;
  /** When set, only requests carrying it in `router-authorization` reach GraphQL. */
  routerSecret: string | undefined;
  /** Where the embedded database and development secrets live. */
  dataDir: string;
  /** Unset: an embedded PostgreSQL (PGlite) under `dataDir`. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** How long a pooled connection may sit idle before the pool closes it. */
  databaseIdleTimeoutMs: number;
  /** Bounds on every statement the service sends (DATABASE_*_TIMEOUT_MS); migrations have none of the first two. */
  databaseTimeouts: {
    statementTimeoutMs: number;
    lockTimeoutMs: number;
    idleInTransactionTimeoutMs: number;
    /** How long taking a pooled connection, or opening one, may wait. */
    connectTimeoutMs: number;
  };
  logLevel: string;
  /** Human-readable log lines instead of JSON (development, on a terminal). */
  prettyLogs: boolean;
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    /** When set, tokens must name this issuer (`iss`) and this audience (`aud`). */
    issuer?: string;
    audience?: string;
    /** The furthest ahead, in seconds, that a token's `exp` may lie (AUTH_JWT_MAX_TTL). */
    maxTtlSeconds: number;
  };
  encryptionKeys: EncryptionKey[];
  providers: {
    anthropicBaseUrl: string | undefined;
    openaiBaseUrl: string | undefined;
    platformAnthropicApiKey: string | undefined;
    platformOpenaiApiKey: string | undefined;
    /** How long `connectProvider` waits for the provider to answer its key check. */
    checkTimeoutMs: number;
    /** How long one provider call of a run (or a file upload) may take before it counts as a timeout. */
    requestTimeoutMs: number;
    /** One run's whole budget, all its attempts together (RUN_DEADLINE_MS); the fallback gets what is left. */
    runDeadlineMs: number;
  };
  /** What a SIGTERM or SIGINT sets going (src/stopping.ts). */
  shutdown: {
    /** How long requests are still taken, readiness answering 503, so that load balancers stop sending. */
    drainMs: number;
    /** Then, with the listener closed: how long requests in flight may go on before runs still going are interrupted. */
    graceMs: number;
  };
  graphql: {
    introspection: boolean;
  };
  /** Whether the service serves the Models settings page (SETTINGS_PAGE; src/settings-page.ts). */
  settingsPage: boolean;
}

/** What one HTTP client may cost before its request is answered (src/http-limits.ts). */
export interface HttpLimits {
  /** Headers must arrive within this (slow-header clients lose their socket). */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive socket is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections beyond this are refused at once. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  // Room for the largest upload on a slow link; a response may take longer (runs), this is the request.
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 4_096,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const optional = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const httpUrl = optional.refine(
  (value) => value === undefined || /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value),
  'must be an http(s) URL',
);

const integer = (min: number, max: number, fallback: number) =>
  optional
    .refine((value) => value === undefined || /^\d+$/.test(value), 'must be a whole number')
    .transform((value) => (value === undefined ? fallback : Number(value)))
    .refine((value) => value >= min && value <= max, `must be between ${min} and ${max}`);

/** SHUTDOWN_DRAIN_MS in production when unset: a few seconds for load balancers to see readiness fail. */
export const DEFAULT_PRODUCTION_DRAIN_MS = 5_000;
/** What SHUTDOWN_GRACE_MS adds, when unset, to the longest request: the run's own write after its last call. */
export const GRACE_MARGIN_MS = 1_000;

/** As `integer`, but undefined when unset: the default depends on other variables. */
const optionalInteger = (min: number, max: number) =>
  optional
    .refine((value) => value === undefined || /^\d+$/.test(value), 'must be a whole number')
    .transform((value) => (value === undefined ? undefined : Number(value)))
    .refine((value) => value === undefined || (value >= min && value <= max), `must be between ${min} and ${max}`);

/**
 * The database's bounds when unset. A lock wait (1 s) ends well before a request would give up on
 * a pooled connection (2 s), so requests stuck behind a lock free their connections for the others;
 * every statement the service sends takes milliseconds, so 5 s is only ever a fault; a transaction
 * of the service is never idle for longer than the code between two of its statements.
 */
export const DEFAULT_DATABASE_TIMEOUTS: Config['databaseTimeouts'] = {
  statementTimeoutMs: 5_000,
  lockTimeoutMs: 1_000,
  idleInTransactionTimeoutMs: 5_000,
  connectTimeoutMs: 2_000,
};

/** AUTH_JWT_MAX_TTL when unset: a day. */
export const DEFAULT_JWT_MAX_TTL_SECONDS = 86_400;
const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * A duration in whole seconds, minutes, hours or days (`3600s`, `90m`, `24h`, `1d`), or a plain
 * whole number of seconds (`86400`), between `min` and `max` seconds.
 */
const duration = (min: number, max: number, fallback: number) =>
  optional
    .refine(
      (value) => value === undefined || /^\d{1,9}[smhd]?$/.test(value),
      'must be a duration such as 24h, 90m, 3600s or 86400 (seconds)',
    )
    .transform((value) => {
      if (value === undefined) return fallback;
      const [, amount, unit] = /^(\d{1,9})([smhd]?)$/.exec(value) ?? [];
      return amount === undefined ? Number.NaN : Number(amount) * DURATION_UNITS[unit || 's'];
    })
    .refine((value) => value >= min && value <= max, `must be between ${min / 60}m and ${max / 86_400}d`);

const environment = z.object({
  NODE_ENV: optional
    .refine((value) => value === undefined || ['development', 'test', 'production'].includes(value), 'must be development, test or production')
    .transform((value) => value ?? 'development'),
  PORT: integer(0, 65535, 4000),
  HTTP_HEADERS_TIMEOUT_MS: integer(1_000, 600_000, DEFAULT_HTTP_LIMITS.headersTimeoutMs),
  HTTP_REQUEST_TIMEOUT_MS: integer(1_000, 3_600_000, DEFAULT_HTTP_LIMITS.requestTimeoutMs),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integer(1_000, 600_000, DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs),
  HTTP_MAX_CONNECTIONS: integer(10, 1_000_000, DEFAULT_HTTP_LIMITS.maxConnections),
  ROUTER_SECRET: optional.refine((value) => value === undefined || value.length >= 16, 'must be at least 16 characters long'),
  HOST: optional.refine((value) => value === undefined || /^[A-Za-z0-9.:-]+$/.test(value), 'must be a host name or an IP address'),
  DATA_DIR: optional,
  DATABASE_URL: optional.refine(
    (value) => value === undefined || (/^postgres(ql)?:\/\//.test(value) && URL.canParse(value)),
    'must be a postgres:// or postgresql:// connection string',
  ),
  DATABASE_POOL_SIZE: integer(1, 200, 10),
  DATABASE_IDLE_TIMEOUT_MS: integer(100, 3_600_000, 10_000),
  DATABASE_STATEMENT_TIMEOUT_MS: integer(100, 3_600_000, DEFAULT_DATABASE_TIMEOUTS.statementTimeoutMs),
  DATABASE_LOCK_TIMEOUT_MS: integer(10, 3_600_000, DEFAULT_DATABASE_TIMEOUTS.lockTimeoutMs),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: integer(100, 3_600_000, DEFAULT_DATABASE_TIMEOUTS.idleInTransactionTimeoutMs),
  DATABASE_CONNECT_TIMEOUT_MS: integer(100, 60_000, DEFAULT_DATABASE_TIMEOUTS.connectTimeoutMs),
  LOG_FORMAT: optional.refine((value) => value === undefined || value === 'json' || value === 'pretty', "must be 'json' or 'pretty'"),
  LOG_LEVEL: optional.refine(
    (value) =>
      value === undefined || ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value),
    'must be one of fatal, error, warn, info, debug, trace, silent',
  ),
  AUTH_JWT_SECRET: optional.refine(
    (value) => value === undefined || value.length >= 32,
    'must be at least 32 characters long',
  ),
  AUTH_JWKS_URL: httpUrl,
  AUTH_JWT_ISSUER: optional,
  AUTH_JWT_AUDIENCE: optional,
  AUTH_JWT_MAX_TTL: duration(60, 30 * 86_400, DEFAULT_JWT_MAX_TTL_SECONDS),
  BYOM_ENCRYPTION_KEYS: optional,
  ANTHROPIC_BASE_URL: httpUrl,
  OPENAI_BASE_URL: httpUrl,
  PLATFORM_ANTHROPIC_API_KEY: optional.refine(
    (value) => value === undefined || /^sk-ant-\S+$/.test(value),
    "must be an Anthropic key (starting with 'sk-ant-')",
  ),
  PLATFORM_OPENAI_API_KEY: optional.refine(
    (value) => value === undefined || (/^sk-\S+$/.test(value) && !value.startsWith('sk-ant-')),
    "must be an OpenAI key (starting with 'sk-', not 'sk-ant-')",
  ),
  PROVIDER_CHECK_TIMEOUT_MS: integer(100, 60_000, 5_000),
  PROVIDER_REQUEST_TIMEOUT_MS: integer(100, 600_000, 60_000),
  RUN_DEADLINE_MS: optionalInteger(100, 1_200_000),
  SHUTDOWN_DRAIN_MS: optionalInteger(0, 60_000),
  SHUTDOWN_GRACE_MS: optionalInteger(0, 3_600_000),
  GRAPHQL_INTROSPECTION: optional.refine(
    (value) => value === undefined || value === 'true' || value === 'false',
    "must be 'true' or 'false'",
  ),
  SETTINGS_PAGE: optional.refine((value) => value === undefined || value === 'true' || value === 'false', "must be 'true' or 'false'"),
});

/**
 * Parses and checks every environment variable the service reads, with no side effects.
 * Throws a ConfigError naming each variable that is wrong and why.
 */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = environment.safeParse(env);
  // Values are never echoed: some of these variables are secrets.
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
  const given = (name: string) => (env[name]?.trim() ? env[name]?.trim() : undefined);
  const isProduction = given('NODE_ENV') === 'production';

  let encryptionKeys: EncryptionKey[] = [];
  const ring = given('BYOM_ENCRYPTION_KEYS');
  if (ring !== undefined) {
    try {
      encryptionKeys = parseKeyRing(ring);
    } catch (error) {
      problems.push(`BYOM_ENCRYPTION_KEYS: ${(error as Error).message}`);
    }
  } else if (isProduction) {
    problems.push('BYOM_ENCRYPTION_KEYS is required in production (comma-separated <key id>:<base64 32 bytes>)');
  }
  if (isProduction && !given('AUTH_JWT_SECRET') && !given('AUTH_JWKS_URL')) {
    problems.push('AUTH_JWT_SECRET or AUTH_JWKS_URL is required in production');
  }
  if (isProduction && given('AUTH_JWKS_URL')?.startsWith('http://')) {
    problems.push('AUTH_JWKS_URL must be an https URL in production');
  }
  if (parsed.success && given('DATABASE_LOCK_TIMEOUT_MS') && parsed.data.DATABASE_LOCK_TIMEOUT_MS > parsed.data.DATABASE_STATEMENT_TIMEOUT_MS) {
    problems.push('DATABASE_LOCK_TIMEOUT_MS must not exceed DATABASE_STATEMENT_TIMEOUT_MS (a lock wait is part of a statement)');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const vars = parsed.data;
  const runDeadlineMs = vars.RUN_DEADLINE_MS ?? 2 * vars.PROVIDER_REQUEST_TIMEOUT_MS;

  return {
    isProduction,
    port: vars.PORT,
    // Outside production the service is a developer's: reachable from this machine only.
    host: vars.HOST ?? (isProduction ? undefined : '127.0.0.1'),
    http: {
      headersTimeoutMs: vars.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: vars.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: vars.HTTP_MAX_CONNECTIONS,
    },
    routerSecret: vars.ROUTER_SECRET,
    dataDir: path.resolve(vars.DATA_DIR ?? '.data'),
    databaseUrl: vars.DATABASE_URL,
    databasePoolSize: vars.DATABASE_POOL_SIZE,
    databaseIdleTimeoutMs: vars.DATABASE_IDLE_TIMEOUT_MS,
    databaseTimeouts: {
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
      // Unset, it is never longer than the statement timeout it is part of.
      lockTimeoutMs: given('DATABASE_LOCK_TIMEOUT_MS') ? vars.DATABASE_LOCK_TIMEOUT_MS : Math.min(vars.DATABASE_LOCK_TIMEOUT_MS, vars.DATABASE_STATEMENT_TIMEOUT_MS),
      idleInTransactionTimeoutMs: vars.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      connectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
    },
    logLevel: vars.LOG_LEVEL ?? (vars.NODE_ENV === 'test' ? 'silent' : 'info'),
    prettyLogs: vars.LOG_FORMAT === undefined ? !isProduction && Boolean(process.stdout.isTTY) : vars.LOG_FORMAT === 'pretty',
    auth: {
      jwtSecret: vars.AUTH_JWT_SECRET,
      jwksUrl: vars.AUTH_JWKS_URL,
      issuer: vars.AUTH_JWT_ISSUER,
      audience: vars.AUTH_JWT_AUDIENCE,
      maxTtlSeconds: vars.AUTH_JWT_MAX_TTL,
    },
    encryptionKeys,
    providers: {
      anthropicBaseUrl: vars.ANTHROPIC_BASE_URL,
      openaiBaseUrl: vars.OPENAI_BASE_URL,
      platformAnthropicApiKey: vars.PLATFORM_ANTHROPIC_API_KEY,
      platformOpenaiApiKey: vars.PLATFORM_OPENAI_API_KEY,
      checkTimeoutMs: vars.PROVIDER_CHECK_TIMEOUT_MS,
      requestTimeoutMs: vars.PROVIDER_REQUEST_TIMEOUT_MS,
      runDeadlineMs,
    },
    shutdown: {
      // Outside production nothing routes by readiness: Ctrl-C, tests and the demo stop at once.
      drainMs: vars.SHUTDOWN_DRAIN_MS ?? (isProduction ? DEFAULT_PRODUCTION_DRAIN_MS : 0),
      // Long enough for a run, or an upload, that began just before the listener closed.
      graceMs: vars.SHUTDOWN_GRACE_MS ?? Math.max(runDeadlineMs, vars.PROVIDER_REQUEST_TIMEOUT_MS) + GRACE_MARGIN_MS,
    },
    graphql: {
      introspection: vars.GRAPHQL_INTROSPECTION === undefined ? !isProduction : vars.GRAPHQL_INTROSPECTION === 'true',
    },
    // In production the platform's own sign-in would hand the page its token: off unless asked for.
    settingsPage: vars.SETTINGS_PAGE === undefined ? !isProduction : vars.SETTINGS_PAGE === 'true',
  };
}

/** Reads a development secret from the data directory, making it on first use (mode 0600). */
export function readOrCreateDevSecret(dataDir: string, name: string, make: () => string): string {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = make();
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}

export const DEV_JWT_SECRET_FILE = 'dev-jwt-secret';
export const DEV_ENCRYPTION_KEY_FILE = 'dev-encryption-key';

/**
 * The configuration the service runs with: `parseConfig`, then, outside production only, the
 * development secrets that stand in for unset ones. `notices` says what was filled in.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): { config: Config; notices: string[] } {
  return withDevSecrets(parseConfig(env));
}

/**
 * Outside production, fills unset secrets with development ones kept in the data directory
 * (made on first use). Commands that own the data directory lock it before calling this.
 */
export function withDevSecrets(config: Config): { config: Config; notices: string[] } {
  const notices: string[] = [];
  if (config.isProduction) return { config, notices };

  if (!config.auth.jwtSecret && !config.auth.jwksUrl) {
    config.auth.jwtSecret = readOrCreateDevSecret(config.dataDir, DEV_JWT_SECRET_FILE, () =>
      randomBytes(32).toString('base64url'),
    );
    notices.push(
      `AUTH_JWT_SECRET is unset: using a development secret kept in ${path.join(config.dataDir, DEV_JWT_SECRET_FILE)} (never in production)`,
    );
  }
  if (config.encryptionKeys.length === 0) {
    const ring = readOrCreateDevSecret(
      config.dataDir,
      DEV_ENCRYPTION_KEY_FILE,
      () => `dev:${randomBytes(32).toString('base64')}`,
    );
    config.encryptionKeys = parseKeyRing(ring);
    notices.push(
      `BYOM_ENCRYPTION_KEYS is unset: using a development key kept in ${path.join(config.dataDir, DEV_ENCRYPTION_KEY_FILE)} (never in production)`,
    );
  }
  return { config, notices };
}
