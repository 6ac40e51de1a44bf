import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Catalog, Provider } from '../catalog/catalog';
import { preparedQuery } from '../database/prepared';
import { ANCESTOR_CHAIN, MAX_TREE_DEPTH, groupBy, normalizeId, uuidsOf } from '../organizations/organization.loaders';
import { computeEffectiveModels, type EffectiveModels, type InheritanceFacts, type OwnSettings } from './effective-models';
import { ModelSettingsEntity } from './model-settings.entity';

export interface ModelSettingsLoaders {
  /** An organization's own settings; null when it has none. */
  own: DataLoader<string, ModelSettingsEntity | null>;
  /** An organization's effective models; null for an unknown organization. */
  effective: DataLoader<string, EffectiveModels | null>;
}

interface FactsRow {
  start_id: string;
  id: string;
  depth: number;
  primary_model_id: string | null;
  fallback_model_id: string | null;
  exclusive: boolean | null;
  offer_to_sub_organizations: boolean | null;
  /** The connected providers, on the organization's own row (depth 0) only. */
  providers: Provider[] | null;
}

/**
 * What the inheritance rule needs for every organization of `$1`, in one statement: the
 * organization itself (its settings and connected providers) and every ancestor that has
 * settings, nearest first. Exported so that the benchmark can run the bare statement.
 */
export const INHERITANCE_FACTS_SQL = `${ANCESTOR_CHAIN}
SELECT chain.start_id, chain.id, chain.depth,
       s.primary_model_id, s.fallback_model_id, s.exclusive, s.offer_to_sub_organizations,
       CASE WHEN chain.depth = 0
         THEN ARRAY(SELECT c.provider::text FROM provider_connection c WHERE c.organization_id = chain.id ORDER BY c.provider)
       END AS providers
FROM chain LEFT JOIN model_settings s ON s.organization_id = chain.id
WHERE chain.depth = 0 OR s.organization_id IS NOT NULL
ORDER BY chain.start_id, chain.depth`;

export const inheritanceFactsParameters = (ids: string[]) => [ids, MAX_TREE_DEPTH];

function settingsOf(row: FactsRow): OwnSettings | null {
  if (row.primary_model_id === null) return null;
  return {
    primaryModelId: row.primary_model_id,
    fallbackModelId: row.fallback_model_id,
    exclusive: row.exclusive === true,
    offerToSubOrganizations: row.offer_to_sub_organizations === true,
  };
}

/** Loads the facts of the inheritance rule for any number of organizations; unknown ones are absent. */
async function loadInheritanceFacts(runner: Pick<DataSource, 'query'>, ids: string[]): Promise<Map<string, InheritanceFacts>> {
  const rows = ids.length ? await preparedQuery<FactsRow>(runner, 'byom_inheritance_facts', INHERITANCE_FACTS_SQL, inheritanceFactsParameters(ids)) : [];
  const facts = new Map<string, InheritanceFacts>();
  for (const [startId, chain] of groupBy(rows, (row) => row.start_id)) {
    const [own, ...ancestors] = chain;
    facts.set(startId, {
      organizationId: startId,
      settings: settingsOf(own),
      connectedProviders: own.providers ?? [],
      ancestors: ancestors.map((row) => ({ organizationId: row.id, settings: settingsOf(row) })),
    });
  }
  return facts;
}

/** Per-request loaders of model settings; each batch is one statement. */
export function createModelSettingsLoaders(dataSource: DataSource, catalog: Catalog): ModelSettingsLoaders {
  const options = { cacheKeyFn: normalizeId };
  return {
    own: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length
        ? await dataSource.getRepository(ModelSettingsEntity).createQueryBuilder('s').where('s.organization_id = ANY(:ids)', { ids }).getMany()
        : [];
      const byOrganization = new Map(rows.map((row) => [row.organizationId, row]));
      return keys.map((key) => byOrganization.get(normalizeId(key)) ?? null);
    }, options),

    effective: new DataLoader(async (keys) => {
      const facts = await loadInheritanceFacts(dataSource, uuidsOf(keys));
      return keys.map((key) => {
        const found = facts.get(normalizeId(key));
        return found ? computeEffectiveModels(found, catalog) : null;
      });
    }, options),
  };
}
