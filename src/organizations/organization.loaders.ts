import { isUUID } from 'class-validator';
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { MembershipEntity } from './membership.entity';
import { OrganizationEntity } from './organization.entity';

/**
 * Per-request loaders of the organization tree. Each batch function is one SQL statement and
 * answers in key order; ids that are not UUIDs never reach SQL and load as missing.
 */
export interface OrganizationLoaders {
  byId: DataLoader<string, OrganizationEntity | null>;
  children: DataLoader<string, OrganizationEntity[]>;
  hasChildren: DataLoader<string, boolean>;
  /** Ancestor ids, nearest first; empty for a root or an unknown organization. */
  ancestorIds: DataLoader<string, string[]>;
  /** A user's memberships, keyed by user id. */
  membershipsOfUser: DataLoader<string, MembershipEntity[]>;
  /** An organization's memberships, keyed by organization id, by user id. */
  membersOf: DataLoader<string, MembershipEntity[]>;
}

/** The longest ancestor chain a recursive walk follows: a guard, the tree has no cycles. */
export const MAX_TREE_DEPTH = 10_000;

/** Ids compare in lower case, as PostgreSQL prints UUIDs. */
export const normalizeId = (id: string) => id.toLowerCase();
export const uuidsOf = (keys: readonly string[]) => [...new Set(keys.filter((key) => isUUID(key)).map(normalizeId))];

export function groupBy<T>(rows: T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

/**
 * The recursive walk from each organization of `$1` (uuid[]) up to its root, `$2` levels at most:
 * `chain (start_id, id, parent_id, depth)`, depth 0 being the organization itself. Statements
 * that walk the tree start with it and pass MAX_TREE_DEPTH as `$2`.
 */
export const ANCESTOR_CHAIN = `WITH RECURSIVE chain (start_id, id, parent_id, depth) AS (
  SELECT o.id, o.id, o.parent_id, 0 FROM organization o WHERE o.id = ANY($1::uuid[])
  UNION ALL
  SELECT chain.start_id, p.id, p.parent_id, chain.depth + 1
  FROM chain JOIN organization p ON p.id = chain.parent_id
  WHERE chain.depth < $2
)`;

/**
 * Walks up from each organization to its root in one recursive statement: one row per
 * (organization, ancestor), nearest ancestor first.
 */
export function ancestorChains(
  runner: Pick<DataSource, 'query'>,
  ids: string[],
): Promise<{ start_id: string; id: string }[]> {
  return runner.query(`${ANCESTOR_CHAIN}\n SELECT start_id, id FROM chain WHERE depth > 0 ORDER BY start_id, depth`, [ids, MAX_TREE_DEPTH]);
}

export function createOrganizationLoaders(dataSource: DataSource): OrganizationLoaders {
  const organizations = dataSource.getRepository(OrganizationEntity);
  const memberships = dataSource.getRepository(MembershipEntity);
  const options = { cacheKeyFn: normalizeId };

  return {
    byId: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length ? await organizations.createQueryBuilder('o').where('o.id = ANY(:ids)', { ids }).getMany() : [];
      const byId = new Map(rows.map((row) => [row.id, row]));
      return keys.map((key) => byId.get(normalizeId(key)) ?? null);
    }, options),

    children: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length
        ? await organizations
            .createQueryBuilder('o')
            .where('o.parent_id = ANY(:ids)', { ids })
            .orderBy('o.name')
            .addOrderBy('o.id')
            .getMany()
        : [];
      const byParent = groupBy(rows, (row) => row.parentId as string);
      return keys.map((key) => byParent.get(normalizeId(key)) ?? []);
    }, options),

    hasChildren: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows: { id: string }[] = ids.length
        ? await dataSource.query(
            `SELECT p.id FROM unnest($1::uuid[]) AS p(id)
             WHERE EXISTS (SELECT 1 FROM organization child WHERE child.parent_id = p.id)`,
            [ids],
          )
        : [];
      const parents = new Set(rows.map((row) => row.id));
      return keys.map((key) => parents.has(normalizeId(key)));
    }, options),

    ancestorIds: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length ? await ancestorChains(dataSource, ids) : [];
      const byStart = groupBy(rows, (row) => row.start_id);
      return keys.map((key) => (byStart.get(normalizeId(key)) ?? []).map((row) => row.id));
    }, options),

    membershipsOfUser: new DataLoader(async (userIds) => {
      const rows = await memberships.createQueryBuilder('m').where('m.user_id = ANY(:userIds)', { userIds: [...userIds] }).getMany();
      const byUser = groupBy(rows, (row) => row.userId);
      return userIds.map((userId) => byUser.get(userId) ?? []);
    }),

    membersOf: new DataLoader(async (keys) => {
      const ids = uuidsOf(keys);
      const rows = ids.length
        ? await memberships.createQueryBuilder('m').where('m.organization_id = ANY(:ids)', { ids }).orderBy('m.user_id').getMany()
        : [];
      const byOrganization = groupBy(rows, (row) => row.organizationId);
      return keys.map((key) => byOrganization.get(normalizeId(key)) ?? []);
    }, options),
  };
}
