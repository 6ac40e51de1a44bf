import DataLoader from 'dataloader';
import type { Provider } from '../catalog/catalog';
import { all, byIdKeys, normalizeId } from '../database/keys';
import { type Runner, query, statement } from '../database/statements';
import { ConnectionStatus, ProviderConnectionEntity } from './provider-connection.entity';

interface ConnectionRow {
  id: string;
  organization_id: string;
  provider: Provider;
  encrypted_key: string;
  key_hint: string;
  status: ConnectionStatus;
  rotated_at: Date | null;
  last_verified_at: Date | null;
  last_used_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const CONNECTION_COLUMNS = 'c.id, c.organization_id, c.provider, c.encrypted_key, c.key_hint, c.status, c.rotated_at, c.last_verified_at, c.last_used_at, c.created_at, c.updated_at';
const RETURNED_COLUMNS = 'id, organization_id, provider, encrypted_key, key_hint, status, rotated_at, last_verified_at, last_used_at, created_at, updated_at';

function toConnection(row: ConnectionRow): ProviderConnectionEntity {
  return Object.assign(new ProviderConnectionEntity(), {
    id: row.id,
    organizationId: row.organization_id,
    provider: row.provider,
    encryptedKey: row.encrypted_key,
    keyHint: row.key_hint,
    status: row.status,
    rotatedAt: row.rotated_at,
    lastVerifiedAt: row.last_verified_at,
    lastUsedAt: row.last_used_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

const CONNECTIONS_OF_ORGANIZATIONS = statement(
  'connections_of_organizations',
  `SELECT ${CONNECTION_COLUMNS} FROM provider_connection c WHERE c.organization_id = ANY($1::uuid[]) ORDER BY c.provider`,
);

/** An organization's connection to one provider, locked until the transaction ends. */
const LOCK_CONNECTION = statement(
  'connection_lock',
  `SELECT ${CONNECTION_COLUMNS} FROM provider_connection c WHERE c.organization_id = $1 AND c.provider = $2 FOR UPDATE`,
);

/** The providers an organization has connected, locked (FOR SHARE) until the transaction ends. */
const LOCK_CONNECTED_PROVIDERS = statement(
  'connection_lock_connected_providers',
  'SELECT provider FROM provider_connection WHERE organization_id = $1 FOR SHARE',
);

/** A new connection; no row when a concurrent connect inserted one first. */
const INSERT_CONNECTION = statement(
  'connection_insert',
  `INSERT INTO provider_connection (id, organization_id, provider, encrypted_key, key_hint, status, last_verified_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
ON CONFLICT (organization_id, provider) DO NOTHING
RETURNING ${RETURNED_COLUMNS}`,
);

const ROTATE_KEY = statement(
  'connection_rotate_key',
  `UPDATE provider_connection
SET encrypted_key = $2, key_hint = $3, status = $4, rotated_at = now(), last_verified_at = now(), updated_at = now()
WHERE id = $1
RETURNING ${RETURNED_COLUMNS}`,
);

const DELETE_CONNECTION = statement('connection_delete', 'DELETE FROM provider_connection WHERE id = $1');

/**
 * A key's status as a call found it, only for the key the call used (`$3`: a key rotated
 * meanwhile is not marked) and only when it changes; VERIFIED also records when.
 */
const MARK_KEY_STATUS = statement(
  'connection_mark_key_status',
  `UPDATE provider_connection
SET status = $2, last_verified_at = CASE WHEN $2 = 'VERIFIED' THEN now() ELSE last_verified_at END, updated_at = now()
WHERE id = $1 AND encrypted_key = $3 AND status <> $2
RETURNING organization_id`,
);

/** Up to `$3` keys after id `$1` not under the ciphertext prefix `$2`, locked, by id. */
const LOCK_STALE_KEYS = statement(
  'connection_lock_stale_keys',
  `SELECT id, organization_id, provider, encrypted_key FROM provider_connection
WHERE id > $1 AND NOT starts_with(encrypted_key, $2)
ORDER BY id LIMIT $3
FOR UPDATE`,
);

const REPLACE_KEYS = statement(
  'connection_replace_keys',
  `UPDATE provider_connection c SET encrypted_key = u.encrypted_key
FROM unnest($1::uuid[], $2::text[]) AS u (id, encrypted_key)
WHERE c.id = u.id`,
);

/** A stored key as re-encryption reads it. */
export interface StoredKey {
  id: string;
  organization_id: string;
  provider: Provider;
  encrypted_key: string;
}

/** Provider connections and their stored keys (ciphertexts only: the key vault lives in the services). */
export class ConnectionRepository {
  constructor(private readonly db: Runner) {}

  /** Batch function: each organization's connections, by provider. */
  ofOrganizations(organizationIds: readonly string[]): Promise<ProviderConnectionEntity[][]> {
    return byIdKeys(
      organizationIds,
      async (ids) => (await query<ConnectionRow>(this.db, CONNECTIONS_OF_ORGANIZATIONS, [ids])).map(toConnection),
      (connection) => connection.organizationId,
      all,
    );
  }

  /** The organization's connection to the provider, locked for the transaction; null when there is none. */
  async lock(organizationId: string, provider: Provider): Promise<ProviderConnectionEntity | null> {
    const [row] = await query<ConnectionRow>(this.db, LOCK_CONNECTION, [normalizeId(organizationId), provider]);
    return row ? toConnection(row) : null;
  }

  /** The providers the organization has connected, their rows share-locked for the transaction. */
  async lockConnectedProviders(organizationId: string): Promise<Set<Provider>> {
    const rows = await query<{ provider: Provider }>(this.db, LOCK_CONNECTED_PROVIDERS, [normalizeId(organizationId)]);
    return new Set(rows.map((row) => row.provider));
  }

  /** Inserts a verified connection whose id (`values.id`) the ciphertext is bound to; null when a concurrent connect inserted one first. */
  async insert(values: { id: string; organizationId: string; provider: Provider; encryptedKey: string; keyHint: string }): Promise<ProviderConnectionEntity | null> {
    const [row] = await query<ConnectionRow>(this.db, INSERT_CONNECTION, [
      values.id,
      values.organizationId,
      values.provider,
      values.encryptedKey,
      values.keyHint,
      ConnectionStatus.VERIFIED,
    ]);
    return row ? toConnection(row) : null;
  }

  /** Replaces a connection's key (same id, `rotatedAt` set, VERIFIED) and answers the row as it is now. */
  async rotateKey(id: string, encryptedKey: string, keyHint: string): Promise<ProviderConnectionEntity> {
    const [row] = await query<ConnectionRow>(this.db, ROTATE_KEY, [id, encryptedKey, keyHint, ConnectionStatus.VERIFIED]);
    if (!row) throw new Error(`The provider connection ${id} is gone`);
    return toConnection(row);
  }

  async delete(id: string): Promise<void> {
    await query(this.db, DELETE_CONNECTION, [id]);
  }

  /** Marks the key `ciphertext` of a connection; answers the organization whose connection changed, or null. */
  async markKeyStatus(connectionId: string, ciphertext: string, status: ConnectionStatus): Promise<string | null> {
    const [row] = await query<{ organization_id: string }>(this.db, MARK_KEY_STATUS, [connectionId, status, ciphertext]);
    return row?.organization_id ?? null;
  }

  /** Up to `limit` stored keys after `afterId` that are not under `currentPrefix`, locked, by id. */
  lockStaleKeys(afterId: string, currentPrefix: string, limit: number): Promise<StoredKey[]> {
    return query<StoredKey>(this.db, LOCK_STALE_KEYS, [afterId, currentPrefix, limit]);
  }

  /** Stores new ciphertexts, `ciphertexts[i]` for connection `ids[i]`. */
  async replaceKeys(ids: string[], ciphertexts: string[]): Promise<void> {
    await query(this.db, REPLACE_KEYS, [ids, ciphertexts]);
  }
}

export type ConnectionLoaders = ReturnType<typeof createConnectionLoaders>;

/** Per-request loader: an organization's connections, by provider, for any number of organizations in one statement. */
export function createConnectionLoaders(connections: ConnectionRepository) {
  return {
    ofOrganization: new DataLoader<string, ProviderConnectionEntity[]>((keys) => connections.ofOrganizations(keys), { cacheKeyFn: normalizeId }),
  };
}
