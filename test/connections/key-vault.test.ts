import { randomBytes } from 'node:crypto';
import { type EncryptionKey, KeyVault, KeyVaultError, parseKeyRing } from '../../src/connections/key-vault';

const ringKey = (id: string): EncryptionKey => ({ id, key: randomBytes(32) });
const binding = { organizationId: '0b6c3b9e-7f5e-4d8a-9f0e-1a2b3c4d5e6f', connectionId: '6f1d2c3b-4a59-4e8b-8c7d-6e5f4a3b2c1d', provider: 'ANTHROPIC' };
const API_KEY = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789';

/** The KeyVaultError that `work` throws; fails the test if it throws none or another error. */
function vaultErrorOf(work: () => unknown): KeyVaultError {
  try {
    work();
  } catch (error) {
    if (error instanceof KeyVaultError) return error;
    throw error;
  }
  throw new Error('expected a KeyVaultError');
}

describe('the key vault', () => {
  const current = ringKey('k2');
  const vault = new KeyVault([current]);

  it('decrypts what it encrypted, with the same binding', () => {
    const sealed = vault.encrypt(API_KEY, binding);
    expect(vault.decrypt(sealed, binding)).toBe(API_KEY);
  });

  it('writes v1:<key id>:<base64 of a 12-byte nonce, the ciphertext and a 16-byte tag>', () => {
    const sealed = vault.encrypt(API_KEY, binding);
    const [version, keyId, encoded] = sealed.split(':');
    expect([version, keyId]).toEqual(['v1', 'k2']);
    expect(Buffer.from(encoded, 'base64')).toHaveLength(12 + Buffer.byteLength(API_KEY) + 16);
    expect(sealed).not.toContain(API_KEY);
  });

  it('never encrypts one key the same way twice (a fresh nonce each time)', () => {
    const sealed = Array.from({ length: 50 }, () => vault.encrypt(API_KEY, binding));
    expect(new Set(sealed).size).toBe(50);
    expect(new Set(sealed.map((s) => Buffer.from(s.split(':')[2], 'base64').subarray(0, 12).toString('hex'))).size).toBe(50);
  });

  it.each([0, 5, 12, 30, -1])('refuses a ciphertext with a byte flipped at %i, saying it does not authenticate', (position) => {
    const sealed = vault.encrypt(API_KEY, binding);
    const bytes = Buffer.from(sealed.split(':')[2], 'base64');
    const at = position < 0 ? bytes.length + position : position;
    bytes[at] ^= 0x01;
    const error = vaultErrorOf(() => vault.decrypt(`v1:k2:${bytes.toString('base64')}`, binding));
    expect(error.message).toMatch(/does not authenticate under key 'k2'/);
  });

  it('refuses a ciphertext under a different key of the same id', () => {
    const other = new KeyVault([ringKey('k2')]);
    expect(vaultErrorOf(() => other.decrypt(vault.encrypt(API_KEY, binding), binding)).message).toMatch(/does not authenticate/);
  });

  it('refuses a ciphertext whose key id is not in the ring, naming the id', () => {
    const other = new KeyVault([ringKey('k9')]);
    expect(vaultErrorOf(() => other.decrypt(vault.encrypt(API_KEY, binding), binding)).message).toBe(
      "The ciphertext was made with key 'k2', which is not in the key ring",
    );
  });

  it.each([
    ['another organization', { organizationId: '11111111-1111-4111-8111-111111111111' }],
    ['another connection', { connectionId: '22222222-2222-4222-8222-222222222222' }],
    ['another provider', { provider: 'OPENAI' }],
  ])('refuses a ciphertext moved to %s (other associated data)', (_case, change) => {
    const sealed = vault.encrypt(API_KEY, binding);
    expect(vaultErrorOf(() => vault.decrypt(sealed, { ...binding, ...change })).message).toMatch(
      /belongs to another organization, connection or provider/,
    );
  });

  it('reads ids in either case as the same binding (PostgreSQL prints UUIDs in lower case)', () => {
    const sealed = vault.encrypt(API_KEY, { ...binding, organizationId: binding.organizationId.toUpperCase() });
    expect(vault.decrypt(sealed, binding)).toBe(API_KEY);
  });

  it.each([
    ['no version', 'k2:abcd'],
    ['another version', 'v2:k2:AAAA'],
    ['too many parts', 'v1:k2:AAAA:BBBB'],
    ['a truncated body', `v1:k2:${Buffer.alloc(20).toString('base64')}`],
    ['a body that is not base64', 'v1:k2:!!!!'],
    ['the plaintext itself', API_KEY],
  ])('refuses a malformed ciphertext (%s) with a clear error and no plaintext in it', (_case, sealed) => {
    const error = vaultErrorOf(() => vault.decrypt(sealed, binding));
    expect(error.message).toMatch(/Not a v1 ciphertext|not in the key ring|truncated or not base64/);
    expect(error.message).not.toContain(API_KEY);
  });

  describe('rotation of the encryption key', () => {
    const old = ringKey('k1');
    const before = new KeyVault([old]);
    const after = new KeyVault([current, old]);

    it('still decrypts a ciphertext made under the old key', () => {
      expect(after.decrypt(before.encrypt(API_KEY, binding), binding)).toBe(API_KEY);
    });

    it('encrypts new ciphertexts under the first key of the ring', () => {
      expect(after.encrypt(API_KEY, binding)).toMatch(/^v1:k2:/);
      expect(after.currentKeyId).toBe('k2');
    });

    it('tells ciphertexts under an older key from current ones by their prefix', () => {
      expect(before.encrypt(API_KEY, binding).startsWith(after.currentPrefix)).toBe(false);
      expect(after.encrypt(API_KEY, binding).startsWith(after.currentPrefix)).toBe(true);
    });
  });

  it('refuses an empty key ring', () => {
    expect(() => new KeyVault([])).toThrow(/at least one encryption key/);
  });

  it('works with a ring parsed from BYOM_ENCRYPTION_KEYS', () => {
    const ring = parseKeyRing(`new:${randomBytes(32).toString('base64')},old:${randomBytes(32).toString('base64')}`);
    const parsed = new KeyVault(ring);
    expect(parsed.decrypt(parsed.encrypt(API_KEY, binding), binding)).toBe(API_KEY);
    expect(parsed.currentKeyId).toBe('new');
  });
});
