import DataLoader from 'dataloader';
import type { Provider } from '../catalog/catalog';
import { all, byIdKeys, normalizeId } from '../database/keys';
import { type Runner, query, statement } from '../database/statements';
import type { Cooldown } from '../runs/cooldowns';
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

/**
 * What a check of the stored key `$3` found (`$2`, VERIFIED or INVALID), recorded only for that key
 * (a rotation meanwhile is not marked); VERIFIED also records when.
 */
const RECORD_KEY_CHECK = statement(
  'connection_record_key_check',
  `UPDATE provider_connection
SET status = $2::connection_status, last_verified_at = CASE WHEN $2::connection_status = 'VERIFIED' THEN now() ELSE last_verified_at END, updated_at = now()
WHERE id = $1 AND encrypted_key = $3
RETURNING ${RETURNED_COLUMNS}`,
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

/** The cooldown's account of the platform's key for a provider (a connection's is its id). */
export const platformAccount = (provider: Provider) => `platform:${provider}`;

/** A key route as a run reads it: a connection with one of its cooldowns, or a platform account's cooldown. */
export interface KeyRouteRow {
  /** Null on a platform cooldown's row. */
  connection_id: string | null;
  organization_id: string | null;
  provider: Provider;
  encrypted_key: string | null;
  status: ConnectionStatus | null;
  /** Whether the key's last use is unknown or more than a minute old (so that a use moves it). */
  use_stale: boolean | null;
  /** The cooldown's account (a connection's id, or a platform account); null when the connection has none of the models asked for. */
  account: string | null;
  model_id: string | null;
  until: Date | null;
  reason: string | null;
  failures: number | null;
}

/**
 * A run's routes in one statement: the connections of the organizations `$1`, each with its
 * cooldowns of the models `$2` (a row per cooldown, or one without), and the cooldowns of those
 * models on the platform accounts `$3`.
 */
const KEY_ROUTES = statement(
  'connection_key_routes',
  `SELECT c.id AS connection_id, c.organization_id, c.provider::text AS provider, c.encrypted_key, c.status::text AS status,
       (c.last_used_at IS NULL OR c.last_used_at < now() - interval '1 minute') AS use_stale,
       k.account, k.model_id, k.until, k.reason, k.failures
FROM provider_connection c
LEFT JOIN model_cooldown k ON k.account = c.id::text AND k.model_id = ANY($2::varchar[])
WHERE c.organization_id = ANY($1::uuid[])
UNION ALL
SELECT NULL, NULL, k.provider::text, NULL, NULL, NULL, k.account, k.model_id, k.until, k.reason, k.failures
FROM model_cooldown k
WHERE k.account = ANY($3::varchar[]) AND k.model_id = ANY($2::varchar[])`,
  { prepared: true },
);

/**
 * Cools a pair after a retriable failure: a new row, or one more failure in a row and the end
 * moved later (GREATEST: never earlier), the reason following the end. Nothing is written for a
 * connection whose key (`$7`) was rotated or removed since the call.
 */
const COOL_DOWN = statement(
  'cooldown_upsert',
  `INSERT INTO model_cooldown AS c (account, connection_id, provider, model_id, until, reason, failures, updated_at)
SELECT $1, $2::uuid, $3::provider, $4, $5, $6, 1, now()
WHERE $2::uuid IS NULL OR EXISTS (SELECT 1 FROM provider_connection p WHERE p.id = $2::uuid AND p.encrypted_key = $7)
ON CONFLICT (account, model_id) DO UPDATE SET
  failures = c.failures + 1,
  until = GREATEST(c.until, EXCLUDED.until),
  reason = CASE WHEN EXCLUDED.until > c.until THEN EXCLUDED.reason ELSE c.reason END,
  updated_at = now()
RETURNING until, reason, failures`,
);

const CLEAR_COOLDOWNS = statement(
  'cooldown_clear',
  `DELETE FROM model_cooldown k USING unnest($1::varchar[], $2::varchar[]) AS p (account, model_id)
WHERE k.account = p.account AND k.model_id = p.model_id`,
);

const CLEAR_CONNECTION_COOLDOWNS = statement('cooldown_clear_connection', 'DELETE FROM model_cooldown WHERE connection_id = $1');

const COOLDOWN_COLUMNS = 'account, connection_id AS "connectionId", provider::text AS provider, model_id AS "modelId", until, reason, failures';

/** The cooldowns of connections, ended or not (whether one still cools is the service's clock's to say). */
const COOLDOWNS_OF_CONNECTIONS = statement(
  'cooldowns_of_connections',
  `SELECT ${COOLDOWN_COLUMNS} FROM model_cooldown WHERE connection_id = ANY($1::uuid[]) ORDER BY connection_id, model_id`,
);

/** Every platform account's cooldown that ends after `$1`. */
const PLATFORM_COOLDOWNS = statement(
  'cooldowns_of_platform',
  `SELECT ${COOLDOWN_COLUMNS} FROM model_cooldown WHERE connection_id IS NULL AND until > $1 ORDER BY account, model_id`,
);

/** A key's use: `last_used_at` moves only where it is unknown or more than a minute old, so a busy row is written at most once a minute. */
const NOTE_KEY_USE = statement(
  'connection_note_key_use',
  `UPDATE provider_connection SET last_used_at = now()
WHERE id = ANY($1::uuid[]) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
);

/** A pair's cooldown as stored. */
export interface CooldownRow extends Cooldown {
  account: string;
  connectionId: string | null;
  provider: Provider;
  modelId: string;
}

export interface CooldownWrite {
  account: string;
  /** The connection's id and the ciphertext the failed call used; null for a platform account. */
  connection: { id: string; ciphertext: string } | null;
  provider: Provider;
  modelId: string;
  /** The end the rule asks for; an end already later is kept. */
  until: Date;
  reason: string;
}

/** Up to `$2` stored keys after id `$1`, by id, unlocked (a check reads them, and records what it found only for the key it read). */
const STORED_KEYS = statement(
  'connection_stored_keys',
  `SELECT id, organization_id, provider, encrypted_key, status FROM provider_connection
WHERE id > $1
ORDER BY id LIMIT $2`,
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

  /** A run's routes: see KEY_ROUTES. */
  keyRoutes(organizationIds: string[], modelIds: string[], platformAccounts: string[]): Promise<KeyRouteRow[]> {
    return query<KeyRouteRow>(this.db, KEY_ROUTES, [organizationIds, modelIds, platformAccounts]);
  }

  /** Cools a pair (see COOL_DOWN); answers the cooldown as stored, or null when nothing was written. */
  async coolDown(write: CooldownWrite): Promise<Cooldown | null> {
    const [row] = await query<Cooldown>(this.db, COOL_DOWN, [
      write.account,
      write.connection?.id ?? null,
      write.provider,
      write.modelId,
      write.until,
      write.reason,
      write.connection?.ciphertext ?? null,
    ]);
    return row ?? null;
  }

  /** Clears the cooldowns of pairs that served again. */
  async clearCooldowns(pairs: { account: string; modelId: string }[]): Promise<void> {
    if (pairs.length === 0) return;
    await query(this.db, CLEAR_COOLDOWNS, [pairs.map((pair) => pair.account), pairs.map((pair) => pair.modelId)]);
  }

  /** Clears every cooldown of a connection (its key was replaced). */
  async clearConnectionCooldowns(connectionId: string): Promise<void> {
    await query(this.db, CLEAR_CONNECTION_COOLDOWNS, [connectionId]);
  }

  /** Batch function: each connection's cooldowns, ended ones too, by model. */
  cooldownsOfConnections(connectionIds: readonly string[]): Promise<CooldownRow[][]> {
    return byIdKeys(connectionIds, (ids) => query<CooldownRow>(this.db, COOLDOWNS_OF_CONNECTIONS, [ids]), (row) => row.connectionId as string, all);
  }

  /** The platform accounts' cooldowns that end after `now`. */
  platformCooldowns(now: Date): Promise<CooldownRow[]> {
    return query<CooldownRow>(this.db, PLATFORM_COOLDOWNS, [now]);
  }

  /** Records that the keys of these connections were used (see NOTE_KEY_USE). */
  async noteKeyUse(connectionIds: string[]): Promise<void> {
    if (connectionIds.length === 0) return;
    await query(this.db, NOTE_KEY_USE, [connectionIds]);
  }

  /** Records a check of the key `ciphertext` (see RECORD_KEY_CHECK); null when the connection's key changed or it is gone. */
  async recordKeyCheck(connectionId: string, ciphertext: string, status: ConnectionStatus): Promise<ProviderConnectionEntity | null> {
    const [row] = await query<ConnectionRow>(this.db, RECORD_KEY_CHECK, [connectionId, status, ciphertext]);
    return row ? toConnection(row) : null;
  }

  /** Up to `limit` stored keys after `afterId` that are not under `currentPrefix`, locked, by id. */
  lockStaleKeys(afterId: string, currentPrefix: string, limit: number): Promise<StoredKey[]> {
    return query<StoredKey>(this.db, LOCK_STALE_KEYS, [afterId, currentPrefix, limit]);
  }

  /** Up to `limit` stored keys after `afterId`, by id. */
  storedKeys(afterId: string, limit: number): Promise<(StoredKey & { status: ConnectionStatus })[]> {
    return query<StoredKey & { status: ConnectionStatus }>(this.db, STORED_KEYS, [afterId, limit]);
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
    /** By connection id: its cooldowns, ended ones too. */
    cooldowns: new DataLoader<string, CooldownRow[]>((keys) => connections.cooldownsOfConnections(keys), { cacheKeyFn: normalizeId }),
  };
}
