import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The key vault (DESIGN.md section 6): AES-256-GCM over provider API keys, with a key ring so
 * that encryption keys rotate without downtime. No database code: callers store the ciphertext.
 *
 * A ciphertext reads `v1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`. Its associated data
 * binds it to one organization, connection and provider: copied onto another row, it no longer
 * decrypts.
 */

/** One key of the ring: the first of the ring encrypts, all of them decrypt. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Where a ciphertext belongs; it decrypts only with the same binding. */
export interface KeyBinding {
  organizationId: string;
  connectionId: string;
  provider: string;
}

export class KeyVaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyVaultError';
  }
}

const FORMAT_VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses `BYOM_ENCRYPTION_KEYS` (`<id>:<base64 of 32 bytes>`, comma-separated) into a key ring. */
export function parseKeyRing(value: string): EncryptionKey[] {
  const entries = value.split(',').map((entry) => entry.trim());
  const ids = new Set<string>();
  return entries.map((entry, index) => {
    const where = `entry ${index + 1}`;
    const separator = entry.indexOf(':');
    if (separator < 0) throw new Error(`${where} is not of the form <key id>:<base64 key>`);
    const id = entry.slice(0, separator);
    const encoded = entry.slice(separator + 1);
    // The id is never echoed: in an entry written the wrong way round it would be the key.
    if (!KEY_ID.test(id)) {
      throw new Error(`${where} has an invalid key id: use 1 to 32 letters, digits, '-' or '_' before the ':'`);
    }
    if (ids.has(id)) throw new Error(`${where} repeats the key id of an earlier entry`);
    ids.add(id);
    const key = Buffer.from(encoded, 'base64');
    if (!BASE64.test(encoded) || key.length !== KEY_BYTES) {
      throw new Error(`${where} (key id '${id}') must be the base64 of exactly ${KEY_BYTES} bytes`);
    }
    return { id, key };
  });
}

/** The associated data: the format version and the binding, unambiguous (ids hold no '\n'). */
function associatedData(binding: KeyBinding): Buffer {
  return Buffer.from([FORMAT_VERSION, binding.organizationId.toLowerCase(), binding.connectionId.toLowerCase(), binding.provider].join('\n'));
}

export class KeyVault {
  private readonly keys: Map<string, Buffer>;
  private readonly current: EncryptionKey;

  constructor(ring: readonly EncryptionKey[]) {
    if (ring.length === 0) throw new KeyVaultError('The key ring is empty: at least one encryption key is needed');
    this.current = ring[0];
    this.keys = new Map(ring.map((entry) => [entry.id, entry.key]));
  }

  /** The id of the key that new ciphertexts use. */
  get currentKeyId(): string {
    return this.current.id;
  }

  /** What every ciphertext under the current key starts with; anything else is due for re-encryption. */
  get currentPrefix(): string {
    return `${FORMAT_VERSION}:${this.current.id}:`;
  }

  encrypt(plaintext: string, binding: KeyBinding): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(binding));
    const sealed = Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${this.currentPrefix}${sealed.toString('base64')}`;
  }

  /** The plaintext; a KeyVaultError saying what is wrong when it cannot be had. */
  decrypt(ciphertext: string, binding: KeyBinding): string {
    const [version, keyId, encoded, ...rest] = ciphertext.split(':');
    if (version !== FORMAT_VERSION || keyId === undefined || encoded === undefined || rest.length > 0) {
      throw new KeyVaultError(`Not a ${FORMAT_VERSION} ciphertext: expected ${FORMAT_VERSION}:<key id>:<base64>`);
    }
    const key = this.keys.get(keyId);
    if (!key) throw new KeyVaultError(`The ciphertext was made with key '${keyId}', which is not in the key ring`);
    const sealed = Buffer.from(encoded, 'base64');
    if (!BASE64.test(encoded) || sealed.length < NONCE_BYTES + TAG_BYTES) {
      throw new KeyVaultError('The ciphertext is truncated or not base64');
    }
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(binding));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyVaultError(
        `The ciphertext does not authenticate under key '${keyId}': it was altered, made with another key of that id, or belongs to another organization, connection or provider`,
      );
    }
  }
}
