import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseKeyRing, KeyVault } from '../../src/connections/key-vault';
import { ProviderKeyChecker } from '../../src/connections/provider-check';
import { parseVerifyArguments, verifyStoredKeys } from '../../src/connections/verify-keys';
import { createLogger } from '../../src/logger';
import { makeOrganization } from '../support/factories';
import { KEY_PATTERN, makeTestKey, type ProviderStandIn, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { serverUrl } from '../support/database';
import { startTestServer, TEST_ENCRYPTION_KEYS, TEST_JWT_SECRET, type TestServer } from '../support/test-server';

/** `npm run keys:verify` (a scheduled job): every stored key decrypted, and with --probe asked of its provider. */

const ROOT = path.join(__dirname, '../..');

describe('verifying stored keys (npm run keys:verify)', () => {
  let standIn: ProviderStandIn;
  let server: TestServer;
  const vault = new KeyVault(parseKeyRing(TEST_ENCRYPTION_KEYS));
  const gone = new KeyVault([{ id: 'gone', key: randomBytes(32) }]);
  const ids: Record<'accepted' | 'revoked' | 'unreadable', string> = { accepted: '', revoked: '', unreadable: '' };
  const keys: string[] = [];

  async function store(encryptWith: KeyVault, provider: 'ANTHROPIC' | 'OPENAI', apiKey: string): Promise<string> {
    const organization = await makeOrganization(server.dataSource);
    const id = randomUUID();
    keys.push(apiKey);
    await server.dataSource.query(
      `INSERT INTO provider_connection (id, organization_id, provider, encrypted_key, key_hint, status) VALUES ($1, $2, $3, $4, $5, 'VERIFIED')`,
      [id, organization.id, provider, encryptWith.encrypt(apiKey, { organizationId: organization.id, connectionId: id, provider }), `…${apiKey.slice(-4)}`],
    );
    return id;
  }

  const statuses = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(ids).map(async ([name, id]) => [name, (await server.dataSource.query('SELECT status FROM provider_connection WHERE id = $1', [id]))[0].status]),
      ),
    );

  beforeAll(async () => {
    standIn = await startProviderStandIn();
    server = await startTestServer(standInEnv(standIn));
    const accepted = makeTestKey('ANTHROPIC');
    standIn.acceptKeys(accepted);
    ids.accepted = await store(vault, 'ANTHROPIC', accepted);
    ids.revoked = await store(vault, 'OPENAI', makeTestKey('OPENAI'));
    ids.unreadable = await store(gone, 'ANTHROPIC', makeTestKey('ANTHROPIC'));
  });
  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  const probe = (concurrency = 2) => ({
    checker: new ProviderKeyChecker(standIn, 2_000),
    concurrency,
    timeoutMs: 2_000,
    log: createLogger('silent'),
  });

  it('names the connections whose key no key of the ring opens, and asks no provider without --probe', async () => {
    const report = await verifyStoredKeys(server.dataSource, vault);
    expect(report.total).toBeGreaterThanOrEqual(3);
    expect(report.unreadable.map((failure) => failure.connectionId)).toEqual([ids.unreadable]);
    expect(report.probed).toBeUndefined();
    expect(standIn.requests).toEqual([]);
  });

  it('with a probe, marks the accepted key VERIFIED and the refused one INVALID, one key check each', async () => {
    const report = await verifyStoredKeys(server.dataSource, vault, probe());
    expect(report.probed).toEqual({ verified: 1, invalid: 1, unreachable: 0, changed: 1 });
    expect(await statuses()).toEqual({ accepted: 'VERIFIED', revoked: 'INVALID', unreadable: 'VERIFIED' });
    expect(standIn.requests.map((request) => request.path).sort()).toEqual(['/v1/models', '/v1/models']);
  });

  it('leaves the status of a key whose provider does not answer as it was', async () => {
    await server.dataSource.query(`UPDATE provider_connection SET status = 'INVALID' WHERE id = $1`, [ids.accepted]);
    standIn.always({}, { status: 503 });
    const report = await verifyStoredKeys(server.dataSource, vault, probe(1));
    expect(report.probed).toEqual({ verified: 0, invalid: 0, unreachable: 2, changed: 0 });
    expect(await statuses()).toEqual({ accepted: 'INVALID', revoked: 'INVALID', unreadable: 'VERIFIED' });
  });

  it('refuses unknown or out-of-range arguments', () => {
    expect(parseVerifyArguments(['--probe', '--concurrency=8', '--timeout-ms=1500'], 5_000)).toEqual({ probe: true, concurrency: 8, timeoutMs: 1_500 });
    expect(parseVerifyArguments([], 5_000)).toEqual({ probe: false, concurrency: 4, timeoutMs: 5_000 });
    expect(() => parseVerifyArguments(['--concurrency=0'], 5_000)).toThrow('--concurrency');
    expect(() => parseVerifyArguments(['--force'], 5_000)).toThrow('Unknown argument');
  });

  // On a PostgreSQL server only: the embedded database is one session, which this file's server
  // keeps, so a second process's connection would wait for it until its connect timeout.
  (serverUrl() ? it : it.skip)('as a command: prints counts and the unreadable connection, never a key, and exits 1', async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'ignore' });
    const { TEST_DATABASE_URL: _test, NODE_OPTIONS: _options, ...rest } = process.env;
    // Not spawnSync: the stand-in answering the probe lives in this process.
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/connections/verify-keys.js'), '--probe'], {
      cwd: ROOT,
      env: {
        ...rest,
        NODE_ENV: 'test',
        DATABASE_URL: server.databaseUrl,
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        BYOM_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
        ...standInEnv(standIn),
      },
    });
    const result = { stdout: '', stderr: '', status: null as number | null };
    child.stdout.on('data', (chunk) => (result.stdout += chunk));
    child.stderr.on('data', (chunk) => (result.stderr += chunk));
    [result.status] = await once(child, 'close');
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`No key of the ring opens connection ${ids.unreadable}`);
    expect(result.stdout).toMatch(/Read \d+ stored key\(s\): \d+ readable, 1 unreadable/);
    expect(result.stdout).toContain('Probed: 1 verified, 1 invalid, 0 unreachable');
    const output = result.stdout + result.stderr;
    expect(KEY_PATTERN.test(output)).toBe(false);
    for (const key of keys) expect(output).not.toContain(key);
  });
});
