import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  DEV_ENCRYPTION_KEY_FILE,
  DEV_JWT_SECRET_FILE,
  loadConfig,
  parseConfig,
} from '../src/config';
import { parseKeyRing } from '../src/connections/key-vault';
import { scratchDirectories } from './support/scratch';
import { shutdownPlan } from '../src/stopping';

const JWT_SECRET = 'a-production-secret-of-at-least-32-characters';
const key32 = () => randomBytes(32).toString('base64');
const PRODUCTION_KEY = key32();
const PRODUCTION = { NODE_ENV: 'production', AUTH_JWT_SECRET: JWT_SECRET, BYOM_ENCRYPTION_KEYS: `prod-1:${PRODUCTION_KEY}` };

/** The ConfigError that parseConfig throws for this environment; fails the test if it accepts it. */
function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`);
}

/** The error that parseKeyRing throws for this value; fails the test if it accepts it. */
function keyRingErrorOf(value: string): Error {
  try {
    parseKeyRing(value);
  } catch (error) {
    return error as Error;
  }
  throw new Error('parseKeyRing accepted the ring');
}

describe('parseConfig', () => {
  describe('defaults', () => {
    const config = parseConfig({});

    it('listens on port 4000', () => {
      expect(config.port).toBe(4000);
    });

    it('runs as development, not production', () => {
      expect(config.isProduction).toBe(false);
    });

    it.each(['prod', 'Production', 'staging'])('refuses NODE_ENV=%s, so that a typo never runs production as development', (value) => {
      expect(() => parseConfig({ NODE_ENV: value })).toThrow(/NODE_ENV must be development, test or production/);
    });

    it('refuses a plain-http AUTH_JWKS_URL in production', () => {
      const production = { NODE_ENV: 'production', BYOM_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` };
      expect(() => parseConfig({ ...production, AUTH_JWKS_URL: 'http://idp.example/jwks.json' })).toThrow(/AUTH_JWKS_URL must be an https URL/);
      expect(parseConfig({ ...production, AUTH_JWKS_URL: 'https://idp.example/jwks.json' }).auth.jwksUrl).toBe('https://idp.example/jwks.json');
    });

    it('turns introspection on outside production', () => {
      expect(config.graphql.introspection).toBe(true);
      expect(parseConfig({ NODE_ENV: 'test' }).graphql.introspection).toBe(true);
    });

    it('uses the embedded database when DATABASE_URL is unset', () => {
      expect(config.databaseUrl).toBeUndefined();
    });

    it('keeps its data under .data resolved to an absolute path', () => {
      expect(config.dataDir).toBe(path.resolve('.data'));
      expect(path.isAbsolute(config.dataDir)).toBe(true);
    });

    it('resolves a relative DATA_DIR to an absolute path', () => {
      expect(parseConfig({ DATA_DIR: 'var/byom' }).dataDir).toBe(path.resolve('var/byom'));
    });

    it('fills in no secrets and no keys by itself', () => {
      expect(config.auth).toEqual({ jwtSecret: undefined, jwksUrl: undefined, maxTtlSeconds: 86_400 });
      expect(config.encryptionKeys).toEqual([]);
      expect(config.providers).toEqual({
        anthropicBaseUrl: undefined,
        openaiBaseUrl: undefined,
        platformAnthropicApiKey: undefined,
        platformOpenaiApiKey: undefined,
        checkTimeoutMs: 5000,
        requestTimeoutMs: 60_000,
        runDeadlineMs: 120_000,
      });
    });

    it('treats empty and blank values as unset', () => {
      const blank = parseConfig({ PORT: '', DATABASE_URL: '  ', LOG_LEVEL: '' });
      expect(blank.port).toBe(4000);
      expect(blank.databaseUrl).toBeUndefined();
    });
  });

  describe('good values', () => {
    it.each([
      ['24h', 86_400],
      ['90m', 5_400],
      ['3600s', 3_600],
      ['86400', 86_400],
      ['7d', 7 * 86_400],
      ['1m', 60],
      ['30d', 30 * 86_400],
      [' 12h ', 12 * 3_600],
    ])('reads AUTH_JWT_MAX_TTL=%s as %i seconds', (value, seconds) => {
      expect(parseConfig({ AUTH_JWT_MAX_TTL: value }).auth.maxTtlSeconds).toBe(seconds);
    });

    it('reads the value of each variable it is given', () => {
      const config = parseConfig({
        PORT: '8080',
        DATABASE_URL: 'postgresql://byom:pw@db.internal:5432/byom',
        LOG_LEVEL: 'debug',
        AUTH_JWT_SECRET: JWT_SECRET,
        AUTH_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
        BYOM_ENCRYPTION_KEYS: `k1:${PRODUCTION_KEY}`,
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:9000',
        OPENAI_BASE_URL: 'http://127.0.0.1:9001/v1',
        PLATFORM_ANTHROPIC_API_KEY: 'sk-ant-platform',
        PLATFORM_OPENAI_API_KEY: 'sk-proj-platform',
        PROVIDER_REQUEST_TIMEOUT_MS: '30000',
        GRAPHQL_INTROSPECTION: 'false',
      });
      expect(config).toMatchObject({
        port: 8080,
        databaseUrl: 'postgresql://byom:pw@db.internal:5432/byom',
        logLevel: 'debug',
        auth: { jwtSecret: JWT_SECRET, jwksUrl: 'https://id.example.com/.well-known/jwks.json' },
        providers: {
          anthropicBaseUrl: 'http://127.0.0.1:9000',
          openaiBaseUrl: 'http://127.0.0.1:9001/v1',
          platformAnthropicApiKey: 'sk-ant-platform',
          platformOpenaiApiKey: 'sk-proj-platform',
          requestTimeoutMs: 30_000,
        },
        graphql: { introspection: false },
      });
      expect(config.encryptionKeys).toEqual([{ id: 'k1', key: Buffer.from(PRODUCTION_KEY, 'base64') }]);
    });
  });

  describe('bad values', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['DATABASE_URL', 'mysql://x'],
      ['AUTH_JWT_SECRET', 'short-SECRET-value-1234'],
      ['AUTH_JWKS_URL', 'not a url'],
      ['AUTH_JWKS_URL', 'keys.example.com/jwks.json'],
      ['ANTHROPIC_BASE_URL', 'ftp://x'],
      ['OPENAI_BASE_URL', 'ftp://y'],
      ['PLATFORM_ANTHROPIC_API_KEY', 'sk-proj-SECRETanthropic987'],
      ['PLATFORM_OPENAI_API_KEY', 'sk-ant-SECRETopenai123'],
      ['PLATFORM_OPENAI_API_KEY', 'SECRETwithoutprefix456'],
      ['LOG_LEVEL', 'loud'],
      ['GRAPHQL_INTROSPECTION', 'yes'],
      ['DATABASE_POOL_SIZE', '999'],
      ['PROVIDER_REQUEST_TIMEOUT_MS', '50'],
      ['PROVIDER_REQUEST_TIMEOUT_MS', '1m'],
      ['RUN_DEADLINE_MS', '50'],
      ['RUN_DEADLINE_MS', '2m'],
      ['RUN_DEADLINE_MS', '1300000'],
      ['SHUTDOWN_DRAIN_MS', '-1'],
      ['SHUTDOWN_DRAIN_MS', '60001'],
      ['SHUTDOWN_GRACE_MS', '5s'],
      ['AUTH_JWT_MAX_TTL', '1.5h'],
      ['AUTH_JWT_MAX_TTL', '-1h'],
      ['AUTH_JWT_MAX_TTL', '12 h'],
      ['AUTH_JWT_MAX_TTL', '1w'],
      ['AUTH_JWT_MAX_TTL', 'forever'],
      ['AUTH_JWT_MAX_TTL', '59s'],
      ['AUTH_JWT_MAX_TTL', '31d'],
      ['AUTH_JWT_MAX_TTL', '99999999999'],
    ])('rejects %s=%s with a ConfigError that names the variable and not the value', (variable, value) => {
      const error = configErrorOf({ [variable]: value });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(new RegExp(`^${variable}\\b`));
      expect(error.message).toContain(variable);
      expect(error.message).not.toContain(value);
    });

    it('says what AUTH_JWT_MAX_TTL takes: a duration, within bounds', () => {
      expect(configErrorOf({ AUTH_JWT_MAX_TTL: 'a day' }).problems).toEqual([
        'AUTH_JWT_MAX_TTL must be a duration such as 24h, 90m, 3600s or 86400 (seconds)',
      ]);
      expect(configErrorOf({ AUTH_JWT_MAX_TTL: '0' }).problems).toEqual(['AUTH_JWT_MAX_TTL must be between 1m and 30d']);
    });

    it('reports several problems together, each naming its variable', () => {
      const error = configErrorOf({ PORT: 'abc', LOG_LEVEL: 'loud', AUTH_JWT_SECRET: 'too-short', GRAPHQL_INTROSPECTION: 'yes' });
      expect(error.problems).toHaveLength(4);
      for (const variable of ['PORT', 'LOG_LEVEL', 'AUTH_JWT_SECRET', 'GRAPHQL_INTROSPECTION']) {
        expect(error.problems.filter((problem) => problem.startsWith(variable))).toHaveLength(1);
      }
      expect(error.message).not.toContain('too-short');
    });

    it('rejects a malformed BYOM_ENCRYPTION_KEYS naming the variable and not the key material', () => {
      const material = randomBytes(16).toString('base64');
      const error = configErrorOf({ BYOM_ENCRYPTION_KEYS: `k1:${material}` });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(/^BYOM_ENCRYPTION_KEYS: entry 1\b/);
      expect(error.message).not.toContain(material);
    });
  });

  describe('in production', () => {
    it('refuses to start without AUTH_JWT_SECRET or AUTH_JWKS_URL', () => {
      const error = configErrorOf({ ...PRODUCTION, AUTH_JWT_SECRET: undefined });
      expect(error.problems).toEqual([expect.stringMatching(/^AUTH_JWT_SECRET or AUTH_JWKS_URL is required in production/)]);
      expect(error.message).not.toContain(PRODUCTION_KEY);
    });

    it('refuses to start without BYOM_ENCRYPTION_KEYS', () => {
      const error = configErrorOf({ ...PRODUCTION, BYOM_ENCRYPTION_KEYS: undefined });
      expect(error.problems).toEqual([expect.stringMatching(/^BYOM_ENCRYPTION_KEYS is required in production/)]);
      expect(error.message).not.toContain(JWT_SECRET);
    });

    it('reports both missing variables together', () => {
      const error = configErrorOf({ NODE_ENV: 'production' });
      expect(error.problems).toHaveLength(2);
      expect(error.message).toContain('AUTH_JWT_SECRET or AUTH_JWKS_URL');
      expect(error.message).toContain('BYOM_ENCRYPTION_KEYS');
    });

    it('starts with a JWT secret and a key ring, with introspection off by default', () => {
      const config = parseConfig(PRODUCTION);
      expect(config.isProduction).toBe(true);
      expect(config.auth.jwtSecret).toBe(JWT_SECRET);
      expect(config.encryptionKeys).toEqual([{ id: 'prod-1', key: Buffer.from(PRODUCTION_KEY, 'base64') }]);
      expect(config.graphql.introspection).toBe(false);
    });

    it('starts with a JWKS URL instead of a JWT secret', () => {
      const config = parseConfig({ ...PRODUCTION, AUTH_JWT_SECRET: undefined, AUTH_JWKS_URL: 'https://id.example.com/jwks' });
      expect(config.auth).toEqual({ jwtSecret: undefined, jwksUrl: 'https://id.example.com/jwks', maxTtlSeconds: 86_400 });
    });

    it('turns introspection on only when GRAPHQL_INTROSPECTION=true', () => {
      expect(parseConfig({ ...PRODUCTION, GRAPHQL_INTROSPECTION: 'true' }).graphql.introspection).toBe(true);
      expect(parseConfig({ ...PRODUCTION, GRAPHQL_INTROSPECTION: 'false' }).graphql.introspection).toBe(false);
    });
  });
});

describe('run deadline and shutdown', () => {
  it('gives a run twice PROVIDER_REQUEST_TIMEOUT_MS when RUN_DEADLINE_MS is unset, for all its attempts together', () => {
    expect(parseConfig({}).providers).toMatchObject({ requestTimeoutMs: 60_000, runDeadlineMs: 120_000 });
    expect(parseConfig({ PROVIDER_REQUEST_TIMEOUT_MS: '5000' }).providers.runDeadlineMs).toBe(10_000);
    expect(parseConfig({ PROVIDER_REQUEST_TIMEOUT_MS: '5000', RUN_DEADLINE_MS: '7000' }).providers.runDeadlineMs).toBe(7_000);
  });

  it('drains for 5 s in production and not at all elsewhere when SHUTDOWN_DRAIN_MS is unset; 0 is allowed', () => {
    expect(parseConfig(PRODUCTION).shutdown.drainMs).toBe(5_000);
    expect(parseConfig({}).shutdown.drainMs).toBe(0);
    expect(parseConfig({ ...PRODUCTION, SHUTDOWN_DRAIN_MS: '0' }).shutdown.drainMs).toBe(0);
    expect(parseConfig({ SHUTDOWN_DRAIN_MS: '2500' }).shutdown.drainMs).toBe(2_500);
  });

  it('lets requests in flight go on for a whole run deadline plus 1 s when SHUTDOWN_GRACE_MS is unset, or an upload when that is longer', () => {
    expect(parseConfig({}).shutdown.graceMs).toBe(121_000);
    expect(parseConfig({ RUN_DEADLINE_MS: '30000' }).shutdown.graceMs).toBe(61_000);
    expect(parseConfig({ SHUTDOWN_GRACE_MS: '25000' }).shutdown.graceMs).toBe(25_000);
  });

  it('derives every shutdown limit from the drain and the grace: the drain plugin cuts connections 5 s after the grace, the process exits 10 s after it', () => {
    const production = parseConfig({ ...PRODUCTION, RUN_DEADLINE_MS: '30000' });
    expect(shutdownPlan(production)).toEqual({ drainMs: 5_000, graceMs: 61_000, cutAfterMs: 66_000, exitAfterMs: 76_000 });
    expect(shutdownPlan(parseConfig({}))).toEqual({ drainMs: 0, graceMs: 121_000, cutAfterMs: 126_000, exitAfterMs: 131_000 });
  });
});

describe('database timeouts', () => {
  it('bound statements at 5 s, lock waits at 1 s, idle transactions at 5 s and the wait for a pooled connection at 2 s when unset', () => {
    expect(parseConfig({}).databaseTimeouts).toEqual({ statementTimeoutMs: 5_000, lockTimeoutMs: 1_000, idleInTransactionTimeoutMs: 5_000, connectTimeoutMs: 2_000 });
  });

  it('takes each from its variable', () => {
    const config = parseConfig({
      DATABASE_STATEMENT_TIMEOUT_MS: '30000',
      DATABASE_LOCK_TIMEOUT_MS: '250',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000',
      DATABASE_CONNECT_TIMEOUT_MS: '1500',
    });
    expect(config.databaseTimeouts).toEqual({ statementTimeoutMs: 30_000, lockTimeoutMs: 250, idleInTransactionTimeoutMs: 60_000, connectTimeoutMs: 1_500 });
  });

  it.each([
    ['DATABASE_STATEMENT_TIMEOUT_MS', '0', 'must be between 100 and 3600000'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '5s', 'must be a whole number'],
    ['DATABASE_LOCK_TIMEOUT_MS', '5', 'must be between 10 and 3600000'],
    ['DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', '-1', 'must be a whole number'],
    ['DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', '99', 'must be between 100 and 3600000'],
    ['DATABASE_CONNECT_TIMEOUT_MS', '60001', 'must be between 100 and 60000'],
    ['DATABASE_CONNECT_TIMEOUT_MS', 'soon', 'must be a whole number'],
  ])('refuses %s=%s: the message names the variable and says what it takes', (variable, value, problem) => {
    expect(configErrorOf({ [variable]: value }).problems).toEqual([`${variable} ${problem}`]);
  });

  it('refuses a lock timeout set longer than the statement timeout, which would never fire', () => {
    expect(configErrorOf({ DATABASE_STATEMENT_TIMEOUT_MS: '2000', DATABASE_LOCK_TIMEOUT_MS: '3000' }).problems).toEqual([
      'DATABASE_LOCK_TIMEOUT_MS must not exceed DATABASE_STATEMENT_TIMEOUT_MS (a lock wait is part of a statement)',
    ]);
    // Unset, the lock timeout follows a statement timeout shorter than its default.
    expect(parseConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '500' }).databaseTimeouts.lockTimeoutMs).toBe(500);
    expect(parseConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '2000', DATABASE_LOCK_TIMEOUT_MS: '2000' }).databaseTimeouts.lockTimeoutMs).toBe(2_000);
  });
});

describe('parseKeyRing', () => {
  const first = randomBytes(32);
  const second = randomBytes(32);

  it('reads a ring of two keys, the first one first', () => {
    const ring = parseKeyRing(`current:${first.toString('base64')},old_2019-a:${second.toString('base64')}`);
    expect(ring).toEqual([
      { id: 'current', key: first },
      { id: 'old_2019-a', key: second },
    ]);
  });

  it('ignores spaces around entries', () => {
    const ring = parseKeyRing(` a:${first.toString('base64')} , b:${second.toString('base64')} `);
    expect(ring.map((key) => key.id)).toEqual(['a', 'b']);
    expect(ring[1].key.equals(second)).toBe(true);
  });

  const good = `k1:${first.toString('base64')}`;
  const material = second.toString('base64');
  const notBase64 = `SECRET*not*base64*${randomBytes(8).toString('hex')}`;
  const sixteen = randomBytes(16).toString('base64');

  it.each([
    ['an entry without a colon', `${good},${material}`, [material]],
    ['an entry with a bad key id', `${good},bad id!:${material}`, [material]],
    ['an entry with a key id longer than 32 characters', `${good},${'k'.repeat(33)}:${material}`, [material]],
    ['an entry that repeats a key id', `${good},k1:${material}`, [material]],
    ['a key that is not base64', `${good},k2:${notBase64}`, [notBase64]],
    ['a key of 16 bytes instead of 32', `${good},k2:${sixteen}`, [sixteen]],
    ['an empty entry', `${good},`, []],
  ])('refuses %s, naming the entry number and never the key material', (_case, value, secrets) => {
    const error = keyRingErrorOf(value);
    expect(error.message).toMatch(/^entry 2\b/);
    expect(error.message).not.toContain(first.toString('base64'));
    for (const secret of secrets) expect(error.message).not.toContain(secret);
  });

  it('refuses an entry written key first, without echoing the key taken for a key id', () => {
    const error = keyRingErrorOf(`${good},${material}:k2`);
    expect(error.message).toMatch(/^entry 2\b/);
    expect(error.message).not.toContain(material);
  });

  it('names the first entry when it is the malformed one', () => {
    const short = randomBytes(16).toString('base64');
    const error = keyRingErrorOf(`k1:${short},k2:${material}`);
    expect(error.message).toMatch(/^entry 1\b/);
    expect(error.message).not.toContain(short);
    expect(error.message).not.toContain(material);
  });
});

describe('loadConfig', () => {
  const newDataDir = scratchDirectories('byom-config');
  let dataDir: string;

  beforeEach(() => {
    dataDir = newDataDir();
  });

  const mode = (file: string) => statSync(file).mode & 0o777;

  describe('outside production, with no secrets configured', () => {
    it('makes a development JWT secret and key ring, each in a file of mode 0600, and says so', () => {
      const { config, notices } = loadConfig({ DATA_DIR: dataDir });
      const secretFile = path.join(dataDir, DEV_JWT_SECRET_FILE);
      const keyFile = path.join(dataDir, DEV_ENCRYPTION_KEY_FILE);

      expect(config.auth.jwtSecret).toEqual(expect.any(String));
      expect(config.auth.jwtSecret!.length).toBeGreaterThanOrEqual(32);
      expect(readFileSync(secretFile, 'utf8').trim()).toBe(config.auth.jwtSecret);
      expect(mode(secretFile)).toBe(0o600);

      expect(config.encryptionKeys).toHaveLength(1);
      expect(config.encryptionKeys[0].key).toHaveLength(32);
      expect(parseKeyRing(readFileSync(keyFile, 'utf8').trim())).toEqual(config.encryptionKeys);
      expect(mode(keyFile)).toBe(0o600);

      expect(notices).toHaveLength(2);
      expect(notices).toContainEqual(expect.stringMatching(/^AUTH_JWT_SECRET is unset/));
      expect(notices).toContainEqual(expect.stringMatching(/^BYOM_ENCRYPTION_KEYS is unset/));
      expect(notices.find((notice) => notice.startsWith('AUTH_JWT_SECRET'))).toContain(secretFile);
      expect(notices.find((notice) => notice.startsWith('BYOM_ENCRYPTION_KEYS'))).toContain(keyFile);
    });

    it('never puts the development secrets in its notices', () => {
      const { config, notices } = loadConfig({ DATA_DIR: dataDir });
      for (const notice of notices) {
        expect(notice).not.toContain(config.auth.jwtSecret);
        expect(notice).not.toContain(config.encryptionKeys[0].key.toString('base64'));
      }
    });

    it('reuses the same secret and key on a second start', () => {
      const first = loadConfig({ DATA_DIR: dataDir });
      const second = loadConfig({ DATA_DIR: dataDir });
      expect(second.config.auth.jwtSecret).toBe(first.config.auth.jwtSecret);
      expect(second.config.encryptionKeys).toEqual(first.config.encryptionKeys);
      expect(second.notices).toEqual(first.notices);
      expect(readdirSync(dataDir).sort()).toEqual([DEV_ENCRYPTION_KEY_FILE, DEV_JWT_SECRET_FILE].sort());
    });

    it('makes a different secret and key in a different data directory', () => {
      const a = loadConfig({ DATA_DIR: dataDir }).config;
      const b = loadConfig({ DATA_DIR: newDataDir() }).config;
      expect(b.auth.jwtSecret).not.toBe(a.auth.jwtSecret);
      expect(b.encryptionKeys[0].key.equals(a.encryptionKeys[0].key)).toBe(false);
    });

    it('creates the data directory when it does not exist yet', () => {
      const nested = path.join(dataDir, 'nested', 'data');
      loadConfig({ DATA_DIR: nested });
      expect(existsSync(path.join(nested, DEV_JWT_SECRET_FILE))).toBe(true);
      expect(existsSync(path.join(nested, DEV_ENCRYPTION_KEY_FILE))).toBe(true);
    });
  });

  describe('outside production, with secrets configured', () => {
    it('uses them, makes no files and gives no notices', () => {
      const { config, notices } = loadConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: JWT_SECRET, BYOM_ENCRYPTION_KEYS: `k1:${PRODUCTION_KEY}` });
      expect(config.auth.jwtSecret).toBe(JWT_SECRET);
      expect(config.encryptionKeys.map((key) => key.id)).toEqual(['k1']);
      expect(notices).toEqual([]);
      expect(readdirSync(dataDir)).toEqual([]);
    });

    it('makes no development JWT secret when AUTH_JWKS_URL is set', () => {
      const { config, notices } = loadConfig({ DATA_DIR: dataDir, AUTH_JWKS_URL: 'https://id.example.com/jwks' });
      expect(config.auth.jwtSecret).toBeUndefined();
      expect(existsSync(path.join(dataDir, DEV_JWT_SECRET_FILE))).toBe(false);
      expect(notices).toEqual([expect.stringMatching(/^BYOM_ENCRYPTION_KEYS is unset/)]);
    });
  });

  describe('in production', () => {
    it('makes no files and gives no notices', () => {
      const { config, notices } = loadConfig({ ...PRODUCTION, DATA_DIR: dataDir });
      expect(config.auth.jwtSecret).toBe(JWT_SECRET);
      expect(notices).toEqual([]);
      expect(readdirSync(dataDir)).toEqual([]);
    });

    it('refuses to start without secrets instead of making development ones', () => {
      expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir })).toThrow(ConfigError);
      expect(readdirSync(dataDir)).toEqual([]);
    });
  });
});
