import { randomBytes, randomUUID } from 'node:crypto';
import { type EncryptionKey, KeyVault } from '../../src/connections/key-vault';
import { reencryptStoredKeys } from '../../src/connections/reencrypt-keys';
import { makeOrganization } from '../support/factories';
import { makeTestKey } from '../support/provider-stand-in';
import { startTestServer, type TestServer } from '../support/test-server';

const ringKey = (id: string): EncryptionKey => ({ id, key: randomBytes(32) });

interface Row {
  id: string;
  organization_id: string;
  provider: string;
  encrypted_key: string;
}

describe('re-encrypting stored keys (npm run keys:reencrypt)', () => {
  let server: TestServer;
  const old = ringKey('old');
  const current = ringKey('current');
  const before = new KeyVault([old]);
  const after = new KeyVault([current, old]);
  /** The plaintext of every stored connection, by connection id. */
  const plaintexts = new Map<string, string>();

  /** Stores `count` connections encrypted under `vault`, as the service would have. */
  async function storeConnections(count: number, vault: KeyVault): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const organization = await makeOrganization(server.dataSource);
      for (const provider of ['ANTHROPIC', 'OPENAI'] as const) {
        const id = randomUUID();
        const apiKey = makeTestKey(provider);
        plaintexts.set(id, apiKey);
        await server.dataSource.query(
          `INSERT INTO provider_connection (id, organization_id, provider, encrypted_key, key_hint, status) VALUES ($1, $2, $3, $4, $5, 'VERIFIED')`,
          [id, organization.id, provider, vault.encrypt(apiKey, { organizationId: organization.id, connectionId: id, provider }), `…${apiKey.slice(-4)}`],
        );
      }
    }
  }
  const rows = (): Promise<Row[]> => server.dataSource.query('SELECT id, organization_id, provider, encrypted_key FROM provider_connection ORDER BY id');
  const decryptAll = async (vault: KeyVault) =>
    (await rows()).map((row) => [row.id, vault.decrypt(row.encrypted_key, { organizationId: row.organization_id, connectionId: row.id, provider: row.provider })]);

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('moves every key under the first key of the ring, in batches, and leaves none behind', async () => {
    await storeConnections(20, before); // 40 rows

    const report = await reencryptStoredKeys(server.dataSource, after, { batchSize: 7 });

    expect(report).toEqual({ moved: 40, failed: [], batches: 6 });
    const stored = await rows();
    expect(stored.filter((row) => !row.encrypted_key.startsWith('v1:current:'))).toEqual([]);
    // The same keys, now readable without the old encryption key.
    expect(new Map(await decryptAll(new KeyVault([current])) as [string, string][])).toEqual(plaintexts);
  });

  it('is safe to run again: nothing left to move, nothing changed', async () => {
    const snapshot = await rows();
    const report = await reencryptStoredKeys(server.dataSource, after, { batchSize: 7 });
    expect(report).toEqual({ moved: 0, failed: [], batches: 0 });
    expect(await rows()).toEqual(snapshot);
  });

  it('moves what it can and reports, by connection id, what it cannot decrypt', async () => {
    const lost = new KeyVault([ringKey('lost')]);
    await storeConnections(1, lost); // 2 rows under a key that is not in the ring
    await storeConnections(2, before); // 4 rows to move

    const report = await reencryptStoredKeys(server.dataSource, after, { batchSize: 3 });

    expect(report.moved).toBe(4);
    expect(report.failed).toHaveLength(2);
    expect(report.failed.map((failure) => failure.reason)).toEqual([
      "The ciphertext was made with key 'lost', which is not in the key ring",
      "The ciphertext was made with key 'lost', which is not in the key ring",
    ]);
    const stale = (await rows()).filter((row) => !row.encrypted_key.startsWith('v1:current:'));
    expect(stale.map((row) => row.id).sort()).toEqual(report.failed.map((failure) => failure.connectionId).sort());
  });
});
