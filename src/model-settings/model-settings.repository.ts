import DataLoader from 'dataloader';
import type { Catalog, Provider } from '../catalog/catalog';
import { byIdKeys, groupBy, normalizeId, one, uuidsOf } from '../database/keys';
import { type Runner, query, statement } from '../database/statements';
import type { OrgRole } from '../organizations/membership.entity';
import type { OrganizationWalk } from '../organizations/organization-walk';
import {
  ANCESTOR_CHAIN,
  ANCESTOR_CHAIN_OF_FEW,
  FEW_ORGANIZATIONS,
  MAX_TREE_DEPTH,
  type OrganizationLoaders,
  toOrganization,
} from '../organizations/organization.repository';
import { computeEffectiveModels, type EffectiveModels, type InheritanceFacts, type OwnSettings } from './effective-models';
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

/** `$1` to `$6` of the statements that write settings: the organization, then the values in their column order. */
const settingsParameters = (organizationId: string, values: SettingsValues) => [
  normalizeId(organizationId),
  values.primaryModelId,
  values.fallbackModelId,
  values.exclusive,
  values.offerToSubOrganizations,
  values.updatedBy,
];

const SETTINGS_OF_ORGANIZATIONS = statement(
  'model_settings_of_organizations',
  `SELECT ${SETTINGS_COLUMNS} FROM model_settings s WHERE s.organization_id = ANY($1::uuid[])`,
);

const LOCK_SETTINGS = statement('model_settings_lock', `SELECT ${SETTINGS_COLUMNS} FROM model_settings s WHERE s.organization_id = $1 FOR UPDATE`);

/** Replaces the settings if they are still at version `$7`; the version grows by one. */
const UPDATE_SETTINGS = statement(
  'model_settings_update',
  `UPDATE model_settings
SET primary_model_id = $2, fallback_model_id = $3, exclusive = $4, offer_to_sub_organizations = $5, updated_by = $6,
    version = version + 1, updated_at = now()
WHERE organization_id = $1 AND version = $7
RETURNING ${RETURNED_COLUMNS}`,
);

/**
 * New settings of an organization, at the version after the highest its settings ever had
 * (organization.last_settings_version, which this raises under the organization's row lock); no
 * row when a concurrent update created them first.
 */
const INSERT_SETTINGS = statement(
  'model_settings_insert',
  `WITH issued AS (
  UPDATE organization SET last_settings_version = last_settings_version + 1 WHERE id = $1 RETURNING last_settings_version AS version
)
INSERT INTO model_settings (organization_id, primary_model_id, fallback_model_id, exclusive, offer_to_sub_organizations, updated_by, version)
SELECT $1::uuid, $2::varchar, $3::varchar, $4::boolean, $5::boolean, $6::varchar, issued.version FROM issued
ON CONFLICT DO NOTHING
RETURNING ${RETURNED_COLUMNS}`,
);

/** Removes the settings, keeping their version as the organization's highest (INSERT_SETTINGS continues from it). */
const DELETE_SETTINGS = statement(
  'model_settings_delete',
  `WITH gone AS (DELETE FROM model_settings WHERE organization_id = $1 RETURNING organization_id, version)
UPDATE organization o SET last_settings_version = GREATEST(o.last_settings_version, gone.version) FROM gone WHERE o.id = gone.organization_id`,
);

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

/** A walk, and the effective models it gives the organization. */
export interface EffectiveWalk extends OrganizationWalk {
  effective: EffectiveModels;
}

/** A walk as read: the organization's row, the caller's role, and what the inheritance rule reads. */
interface WalkFacts extends OrganizationWalk {
  facts: InheritanceFacts;
}

interface WalkRow {
  start_id: string;
  id: string;
  depth: number;
  primary_model_id: string | null;
  fallback_model_id: string | null;
  exclusive: boolean | null;
  offer_to_sub_organizations: boolean | null;
  /** The rest are the organization's own, on its row (depth 0) only. */
  providers: Provider[] | null;
  parent_id: string | null;
  name: string | null;
  created_at: Date | null;
  updated_at: Date | null;
  caller_role: OrgRole | null;
}

/**
 * The walk statement over a given ancestor chain and ways of finding each level's settings (`s`)
 * and the caller's membership (`m`, `$3`) in the organization itself.
 */
const walkStatement = (chain: string, settings: string, membership: string) => `${chain}
SELECT chain.start_id, chain.id, chain.depth,
       s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations,
       CASE WHEN chain.depth = 0
         THEN ARRAY(SELECT c.provider::text FROM provider_connection c WHERE c.organization_id = chain.id ORDER BY c.provider)
       END AS providers,
       chain.parent_id, chain.name, chain.created_at, chain.updated_at, m.role AS caller_role
FROM chain ${settings} ${membership}
WHERE chain.depth = 0 OR s.organization_id IS NOT NULL
ORDER BY chain.start_id, chain.depth`;

/**
 * Every organization of `$1` as the caller `$3` (a user id, or null) finds it, in one statement:
 * its row, the caller's role, its settings and connected providers, then every ancestor that has
 * settings, nearest first. Exported so that the benchmark can run the bare statement.
 */
export const WALK = statement(
  'byom_walk',
  walkStatement(
    ANCESTOR_CHAIN,
    'LEFT JOIN model_settings s ON s.organization_id = chain.id',
    'LEFT JOIN membership m ON chain.depth = 0 AND m.organization_id = chain.id AND m.user_id = $3::varchar',
  ),
  { prepared: true },
);

/**
 * The same for at most FEW_ORGANIZATIONS, with a plan PostgreSQL keeps (see ANCESTOR_CHAIN_OF_FEW):
 * settings and membership are index probes too. What one request asks of one organization.
 */
export const WALK_OF_FEW = statement(
  'byom_walk_of_few',
  walkStatement(
    ANCESTOR_CHAIN_OF_FEW,
    `LEFT JOIN LATERAL (
  SELECT s.organization_id, s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations
  FROM model_settings s WHERE s.organization_id = chain.id LIMIT 1
) s ON true`,
    `LEFT JOIN LATERAL (
  SELECT m.role FROM membership m WHERE chain.depth = 0 AND m.organization_id = chain.id AND m.user_id = $3::varchar LIMIT 1
) m ON true`,
  ),
  { prepared: true },
);

export const walkParameters = (ids: string[], callerId: string | null) => [ids, MAX_TREE_DEPTH, callerId];

function ownSettingsOf(row: WalkRow): OwnSettings | null {
  if (row.primary_model_id === null) return null;
  return {
    primaryModelId: row.primary_model_id,
    fallbackModelId: row.fallback_model_id,
    exclusive: row.exclusive === true,
    offerToSubOrganizations: row.offer_to_sub_organizations === true,
  };
}

/** One organization's walk from its rows: its own first, then its ancestors with settings, nearest first. */
function toWalk([own, ...ancestors]: WalkRow[]): WalkFacts {
  return {
    organization: toOrganization({
      id: own.start_id,
      name: own.name as string,
      parent_id: own.parent_id,
      created_at: own.created_at as Date,
      updated_at: own.updated_at as Date,
    }),
    callerRole: own.caller_role,
    facts: {
      organizationId: own.start_id,
      settings: ownSettingsOf(own),
      connectedProviders: own.providers ?? [],
      ancestors: ancestors.map((row) => ({ organizationId: row.id, settings: ownSettingsOf(row) })),
    },
  };
}

/** Organizations' own model settings, and the walks that read what organizations inherit; `version` conditions every update. */
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

  /** Batch function: each organization's walk for the caller `callerId` (a user id, or null); null for an unknown organization. */
  async walks(keys: readonly string[], callerId: string | null): Promise<(WalkFacts | null)[]> {
    const ids = uuidsOf(keys);
    if (ids.length === 0) return keys.map(() => null);
    const rows = await query<WalkRow>(this.db, ids.length <= FEW_ORGANIZATIONS ? WALK_OF_FEW : WALK, walkParameters(ids, callerId));
    const walks = new Map<string, WalkFacts>();
    for (const [startId, chain] of groupBy(rows, (row) => row.start_id)) walks.set(startId, toWalk(chain));
    return keys.map((key) => walks.get(normalizeId(key)) ?? null);
  }

  /** The organization's settings, locked for the transaction; null when it has none. */
  async lock(organizationId: string): Promise<ModelSettingsEntity | null> {
    const [row] = await query<SettingsRow>(this.db, LOCK_SETTINGS, [normalizeId(organizationId)]);
    return row ? toSettings(row) : null;
  }

  /** Replaces the settings if still at `version`; answers them as stored, or null when the version moved. */
  async update(organizationId: string, version: number, values: SettingsValues): Promise<ModelSettingsEntity | null> {
    const [row] = await query<SettingsRow>(this.db, UPDATE_SETTINGS, [...settingsParameters(organizationId, values), version]);
    return row ? toSettings(row) : null;
  }

  /** Creates the organization's settings, at a version none of its settings had; null when a concurrent update created them first. */
  async insert(organizationId: string, values: SettingsValues): Promise<ModelSettingsEntity | null> {
    const [row] = await query<SettingsRow>(this.db, INSERT_SETTINGS, settingsParameters(organizationId, values));
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

export interface ModelSettingsLoaders {
  /** An organization's own settings; null when it has none. */
  own: DataLoader<string, ModelSettingsEntity | null>;
  /** An organization's walk; null for an unknown organization. Each batch is one statement. */
  walks: DataLoader<string, EffectiveWalk | null>;
}

/**
 * Per-request loaders of model settings for the request's caller (`callerId`, the user id; null
 * when the request has none). Walked organizations prime `organizations.byId`.
 */
export function createModelSettingsLoaders(
  settings: ModelSettingsRepository,
  catalog: Catalog,
  organizations: Pick<OrganizationLoaders, 'byId'>,
  callerId: string | null,
): ModelSettingsLoaders {
  const options = { cacheKeyFn: normalizeId };
  return {
    own: new DataLoader((keys) => settings.ofOrganizations(keys), options),
    walks: new DataLoader<string, EffectiveWalk | null>(async (keys) => {
      const walks = await settings.walks(keys, callerId);
      return walks.map((walk) => {
        if (!walk) return null;
        organizations.byId.prime(walk.organization.id, walk.organization);
        return { organization: walk.organization, callerRole: walk.callerRole, effective: computeEffectiveModels(walk.facts, catalog) };
      });
    }, options),
  };
}
