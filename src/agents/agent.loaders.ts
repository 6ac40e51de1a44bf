import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { groupBy, normalizeId, uuidsOf } from '../organizations/organization.loaders';
import { AgentEntity } from './agent.entity';

export interface AgentLoaders {
  byId: DataLoader<string, AgentEntity | null>;
  /** An organization's agents, oldest first. */
  ofOrganization: DataLoader<string, AgentEntity[]>;
}

/** Per-request loaders of agents; each batch is one statement, and ids that are not UUIDs load as missing. */
export function createAgentLoaders(dataSource: DataSource): AgentLoaders {
  const agents = dataSource.getRepository(AgentEntity);
  const options = { cacheKeyFn: normalizeId };
  return {
    byId: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length ? await agents.createQueryBuilder('a').where('a.id = ANY(:ids)', { ids }).getMany() : [];
      const byId = new Map(rows.map((row) => [row.id, row]));
      return keys.map((key) => byId.get(normalizeId(key)) ?? null);
    }, options),

    ofOrganization: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length
        ? await agents.createQueryBuilder('a').where('a.organization_id = ANY(:ids)', { ids }).orderBy('a.created_at').addOrderBy('a.id').getMany()
        : [];
      const byOrganization = groupBy(rows, (row) => row.organizationId);
      return keys.map((key) => byOrganization.get(normalizeId(key)) ?? []);
    }, options),
  };
}
