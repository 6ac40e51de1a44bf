import { byIdKeys, normalizeId, one } from '../database/keys';
import { type Runner, query, statement } from '../database/statements';
import { MAX_TREE_DEPTH } from '../organizations/organization.loaders';
import { ModelSettingsEntity } from './model-settings.entity';

interface SettingsRow {
  organization_id: string;
  primary_model_id: string;
  fallback_model_id: string | null;
  exclusive: boolean;
  offer_to_sub_organizations: boolean;
  version: number;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

const SETTINGS_COLUMNS =
  's.organization_id, s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations, s.version, s.updated_by, s.created_at, s.updated_at';
const RETURNED_COLUMNS =
  'organization_id, primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, version, updated_by, created_at, updated_at';

function toSettings(row: SettingsRow): ModelSettingsEntity {
  return Object.assign(new ModelSettingsEntity(), {
    organizationId: row.organization_id,
    primaryModelId: row.primary_model_id,
    fallbackModelId: row.fallback_model_id,
    exclusive: row.exclusive,
    offerToSubOrganizations: row.offer_to_sub_organizations,
    version: row.version,
    updatedBy: row.updated_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/** What an update writes: the settings whole, and who wrote them. */
export interface SettingsValues {
  primaryModelId: string;
  fallbackModelId: string | null;
  exclusive: boolean;
  offerToSubOrganizations: boolean;
  updatedBy: string;
}

const SETTINGS_OF_ORGANIZATIONS = statement(
  'model_settings_of_organizations',
  `SELECT ${SETTINGS_COLUMNS} FROM model_settings s WHERE s.organization_id = ANY($1::uuid[])`,
);

const LOCK_SETTINGS = statement('model_settings_lock', `SELECT ${SETTINGS_COLUMNS} FROM model_settings s WHERE s.organization_id = $1 FOR UPDATE`);

/** Replaces the settings if they are still at version `$2`; the version grows by one. */
const UPDATE_SETTINGS = statement(
  'model_settings_update',
  `UPDATE model_settings
SET primary_model_id = $3, fallback_model_id = $4, exclusive = $5, offer_to_sub_organizations = $6, updated_by = $7,
    version = version + 1, updated_at = now()
WHERE organization_id = $1 AND version = $2
RETURNING ${RETURNED_COLUMNS}`,
);

/** The first settings of an organization, at version 1; no row when a concurrent update created them first. */
const INSERT_SETTINGS = statement(
  'model_settings_insert',
  `INSERT INTO model_settings (organization_id, primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, updated_by, version)
VALUES ($1, $2, $3, $4, $5, $6, 1)
ON CONFLICT DO NOTHING
RETURNING ${RETURNED_COLUMNS}`,
);

const DELETE_SETTINGS = statement('model_settings_delete', 'DELETE FROM model_settings WHERE organization_id = $1');

/**
 * The descendants of organization `$1` that take their models from it (DESIGN.md section 3,
 * `computeEffectiveModels` being the rule): the walk down stops below a descendant that offers
 * settings of its own, and passes through one that has settings without offering them; those
 * with settings of their own do not inherit. Nearest first, `$3` of them, each row with the total.
 */
export const INHERITING_DESCENDANTS = statement(
  'model_settings_inheriting_descendants',
  `WITH RECURSIVE below (id, name, depth) AS (
  SELECT o.id, o.name, 1 FROM organization o WHERE o.parent_id = $1
  UNION ALL
  SELECT child.id, child.name, below.depth + 1
  FROM below JOIN organization child ON child.parent_id = below.id
  WHERE below.depth < $2
    AND NOT EXISTS (SELECT 1 FROM model_settings s WHERE s.organization_id = below.id AND s.offer_to_sub_organizations)
)
SELECT below.id, below.name, count(*) OVER ()::int AS total
FROM below
WHERE NOT EXISTS (SELECT 1 FROM model_settings s WHERE s.organization_id = below.id)
ORDER BY below.depth, below.name
LIMIT $3`,
);

/** Organizations' own model settings; `version` conditions every update. */
export class ModelSettingsRepository {
  constructor(private readonly db: Runner) {}

  /** Batch function: each organization's own settings; null when it has none. */
  ofOrganizations(keys: readonly string[]): Promise<(ModelSettingsEntity | null)[]> {
    return byIdKeys(
      keys,
      async (ids) => (await query<SettingsRow>(this.db, SETTINGS_OF_ORGANIZATIONS, [ids])).map(toSettings),
      (settings) => settings.organizationId,
      one,
    );
  }

  /** The organization's settings, locked for the transaction; null when it has none. */
  async lock(organizationId: string): Promise<ModelSettingsEntity | null> {
    const [row] = await query<SettingsRow>(this.db, LOCK_SETTINGS, [normalizeId(organizationId)]);
    return row ? toSettings(row) : null;
  }

  /** Replaces the settings if still at `version`; answers them as stored, or null when the version moved. */
  async update(organizationId: string, version: number, values: SettingsValues): Promise<ModelSettingsEntity | null> {
    const [row] = await query<SettingsRow>(this.db, UPDATE_SETTINGS, [
      normalizeId(organizationId),
      version,
      values.primaryModelId,
      values.fallbackModelId,
      values.exclusive,
      values.offerToSubOrganizations,
      values.updatedBy,
    ]);
    return row ? toSettings(row) : null;
  }

  /** Creates the organization's settings at version 1; null when a concurrent update created them first. */
  async insert(organizationId: string, values: SettingsValues): Promise<ModelSettingsEntity | null> {
    const [row] = await query<SettingsRow>(this.db, INSERT_SETTINGS, [
      normalizeId(organizationId),
      values.primaryModelId,
      values.fallbackModelId,
      values.exclusive,
      values.offerToSubOrganizations,
      values.updatedBy,
    ]);
    return row ? toSettings(row) : null;
  }

  async delete(organizationId: string): Promise<void> {
    await query(this.db, DELETE_SETTINGS, [normalizeId(organizationId)]);
  }

  /** The descendants inheriting from an organization, nearest first, `limit` of them (0: only the count, on one row). */
  inheritingDescendants(organizationId: string, limit: number): Promise<{ id: string; name: string; total: number }[]> {
    return query(this.db, INHERITING_DESCENDANTS, [normalizeId(organizationId), MAX_TREE_DEPTH, Math.max(limit, 1)]);
  }
}
