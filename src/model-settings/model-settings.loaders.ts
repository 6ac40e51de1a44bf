import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Catalog, Provider } from '../catalog/catalog';
import { type PreparedStatement, preparedQuery } from '../database/prepared';
import type { OrgRole } from '../organizations/membership.entity';
import { OrganizationEntity } from '../organizations/organization.entity';
import {
  ANCESTOR_CHAIN,
  ANCESTOR_CHAIN_OF_FEW,
  FEW_ORGANIZATIONS,
  MAX_TREE_DEPTH,
  type OrganizationLoaders,
  groupBy,
  normalizeId,
  uuidsOf,
} from '../organizations/organization.loaders';
import { computeEffectiveModels, type EffectiveModels, type OwnSettings } from './effective-models';
import type { ModelSettingsEntity } from './model-settings.entity';
import type { ModelSettingsRepository } from './model-settings.repository';

/**
 * An organization as one walk up the tree finds it for the caller: its row, the caller's role in
 * it, and its effective models. Access checks that precede a read of effective models take the
 * caller's role from here, so that the check and the read are one statement.
 */
export interface OrganizationWalk {
  organization: OrganizationEntity;
  /** The caller's role in the organization; null for a non-member or when there is no caller. */
  callerRole: OrgRole | null;
  effective: EffectiveModels;
}

export interface ModelSettingsLoaders {
  /** An organization's own settings; null when it has none. */
  own: DataLoader<string, ModelSettingsEntity | null>;
  /** An organization's walk; null for an unknown organization. Each batch is one statement. */
  walks: DataLoader<string, OrganizationWalk | null>;
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
export const WALK: PreparedStatement = {
  name: 'byom_walk',
  text: walkStatement(
    ANCESTOR_CHAIN,
    'LEFT JOIN model_settings s ON s.organization_id = chain.id',
    'LEFT JOIN membership m ON chain.depth = 0 AND m.organization_id = chain.id AND m.user_id = $3::varchar',
  ),
};

/**
 * The same for at most FEW_ORGANIZATIONS, with a plan PostgreSQL keeps (see ANCESTOR_CHAIN_OF_FEW):
 * settings and membership are index probes too. What one request asks of one organization.
 */
export const WALK_OF_FEW: PreparedStatement = {
  name: 'byom_walk_of_few',
  text: walkStatement(
    ANCESTOR_CHAIN_OF_FEW,
    `LEFT JOIN LATERAL (
  SELECT s.organization_id, s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations
  FROM model_settings s WHERE s.organization_id = chain.id LIMIT 1
) s ON true`,
    `LEFT JOIN LATERAL (
  SELECT m.role FROM membership m WHERE chain.depth = 0 AND m.organization_id = chain.id AND m.user_id = $3::varchar LIMIT 1
) m ON true`,
  ),
};

export const walkParameters = (ids: string[], callerId: string | null) => [ids, MAX_TREE_DEPTH, callerId];

function settingsOf(row: WalkRow): OwnSettings | null {
  if (row.primary_model_id === null) return null;
  return {
    primaryModelId: row.primary_model_id,
    fallbackModelId: row.fallback_model_id,
    exclusive: row.exclusive === true,
    offerToSubOrganizations: row.offer_to_sub_organizations === true,
  };
}

/** Walks any number of organizations for the caller; unknown ones are absent. */
async function loadWalks(dataSource: DataSource, catalog: Catalog, ids: string[], callerId: string | null): Promise<Map<string, OrganizationWalk>> {
  if (ids.length === 0) return new Map();
  const rows = await preparedQuery<WalkRow>(dataSource, ids.length <= FEW_ORGANIZATIONS ? WALK_OF_FEW : WALK, walkParameters(ids, callerId));
  const walks = new Map<string, OrganizationWalk>();
  for (const [startId, chain] of groupBy(rows, (row) => row.start_id)) {
    const [own, ...ancestors] = chain;
    walks.set(startId, {
      organization: Object.assign(new OrganizationEntity(), {
        id: startId,
        name: own.name as string,
        parentId: own.parent_id,
        createdAt: own.created_at as Date,
        updatedAt: own.updated_at as Date,
      }),
      callerRole: own.caller_role,
      effective: computeEffectiveModels(
        {
          organizationId: startId,
          settings: settingsOf(own),
          connectedProviders: own.providers ?? [],
          ancestors: ancestors.map((row) => ({ organizationId: row.id, settings: settingsOf(row) })),
        },
        catalog,
      ),
    });
  }
  return walks;
}

/**
 * Per-request loaders of model settings for the request's caller (`callerId`, the user id; null
 * when the request has none). Walked organizations prime `organizations.byId`.
 */
export function createModelSettingsLoaders(
  dataSource: DataSource,
  settings: ModelSettingsRepository,
  catalog: Catalog,
  organizations: Pick<OrganizationLoaders, 'byId'>,
  callerId: string | null,
): ModelSettingsLoaders {
  const options = { cacheKeyFn: normalizeId };
  const walks = new DataLoader<string, OrganizationWalk | null>(async (keys) => {
    const found = await loadWalks(dataSource, catalog, uuidsOf(keys), callerId);
    for (const walk of found.values()) organizations.byId.prime(walk.organization.id, walk.organization);
    return keys.map((key) => found.get(normalizeId(key)) ?? null);
  }, options);

  return {
    own: new DataLoader((keys) => settings.ofOrganizations(keys), options),
    walks,
  };
}
