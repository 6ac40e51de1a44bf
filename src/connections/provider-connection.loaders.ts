import DataLoader from 'dataloader';
import { type DataSource, In } from 'typeorm';
import { groupBy, normalizeId } from '../organizations/organization.loaders';
import { ProviderConnectionEntity } from './provider-connection.entity';

/** Per-request loader: an organization's connections, by provider, for any number of organizations in one statement. */
export function createConnectionLoader(dataSource: DataSource): DataLoader<string, ProviderConnectionEntity[]> {
  return new DataLoader(async (organizationIds) => {
    const ids = organizationIds.map(normalizeId);
    const rows = await dataSource.getRepository(ProviderConnectionEntity).find({
      where: { organizationId: In([...new Set(ids)]) },
      order: { provider: 'ASC' },
    });
    const byOrganization = groupBy(rows, (row) => row.organizationId);
    return ids.map((id) => byOrganization.get(id) ?? []);
  });
}
