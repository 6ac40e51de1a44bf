import { isUUID } from 'class-validator';
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { type PreparedStatement, preparedQuery } from '../database/prepared';
import { MembershipEntity, type OrgRole } from './membership.entity';
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
 * `chain (start_id, id, parent_id, depth, name, created_at, updated_at)`, depth 0 being the
 * organization itself, whose row the last three columns carry (null above it; the walk of
 * model-settings.loaders.ts primes byId with them, ancestorChains ignores them). Statements that
 * walk the tree start with it and pass MAX_TREE_DEPTH as `$2`.
 */
export const ANCESTOR_CHAIN = `WITH RECURSIVE chain (start_id, id, parent_id, depth, name, created_at, updated_at) AS (
  SELECT o.id, o.id, o.parent_id, 0, o.name::text, o.created_at, o.updated_at FROM organization o WHERE o.id = ANY($1::uuid[])
  UNION ALL
  SELECT chain.start_id, p.id, p.parent_id, chain.depth + 1, NULL, NULL, NULL
  FROM chain JOIN organization p ON p.id = chain.parent_id
  WHERE chain.depth < $2
)`;

/**
 * The same walk for a handful of organizations (at most FEW_ORGANIZATIONS), written so that
 * PostgreSQL keeps one generic plan for it instead of planning it on every call: the ids come
 * through a sub-select, whose length the planner never sees, and each step up is an index probe
 * (LATERAL … LIMIT 1). Planning was two thirds of the cost of walking up from one organization;
 * for hundreds, ANCESTOR_CHAIN's hash joins, planned for the batch at hand, are faster.
 */
export const ANCESTOR_CHAIN_OF_FEW = `WITH RECURSIVE chain (start_id, id, parent_id, depth, name, created_at, updated_at) AS (
  SELECT o.id, o.id, o.parent_id, 0, o.name::text, o.created_at, o.updated_at
  FROM unnest((SELECT $1::uuid[])) AS start (id) JOIN organization o ON o.id = start.id
  UNION ALL
  SELECT chain.start_id, p.id, p.parent_id, chain.depth + 1, NULL, NULL, NULL
  FROM chain CROSS JOIN LATERAL (SELECT p.id, p.parent_id FROM organization p WHERE p.id = chain.parent_id LIMIT 1) p
  WHERE chain.depth < $2
)`;

/** The largest batch that walks with ANCESTOR_CHAIN_OF_FEW (measured: the two cost alike near 20). */
export const FEW_ORGANIZATIONS = 16;

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

interface OrganizationRow {
  id: string;
  name: string;
  parent_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const ORGANIZATION_COLUMNS = 'o.id, o.name, o.parent_id, o.created_at, o.updated_at';

/** An organization from its row; hot loaders read rows with plain SQL, without the query builder's work. */
function toOrganization(row: OrganizationRow): OrganizationEntity {
  return Object.assign(new OrganizationEntity(), {
    id: row.id,
    name: row.name,
    parentId: row.parent_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

const ORGANIZATIONS_BY_ID: PreparedStatement = {
  name: 'byom_organizations_by_id',
  text: `SELECT ${ORGANIZATION_COLUMNS} FROM organization o WHERE o.id = ANY($1::uuid[])`,
};

/**
 * A user's memberships (`$1`, one user id) with their organizations' rows. One user, not an
 * array of them: PostgreSQL keeps its generic plan, where an array's was planned on every call.
 */
export const MEMBERSHIPS_OF_USER: PreparedStatement = {
  name: 'byom_memberships_of_user',
  text: `SELECT m.role, m.created_at AS m_created_at, m.updated_at AS m_updated_at, ${ORGANIZATION_COLUMNS}
FROM membership m JOIN organization o ON o.id = m.organization_id
WHERE m.user_id = $1`,
};

export function createOrganizationLoaders(dataSource: DataSource): OrganizationLoaders {
  const organizations = dataSource.getRepository(OrganizationEntity);
  const memberships = dataSource.getRepository(MembershipEntity);
  const options = { cacheKeyFn: normalizeId };

  const byId = new DataLoader<string, OrganizationEntity | null>(async (keys) => {
    const ids = uuidsOf(keys);
    const rows = ids.length
      ? await preparedQuery<OrganizationRow>(dataSource, ORGANIZATIONS_BY_ID, [ids])
      : [];
    const found = new Map(rows.map((row) => [row.id, toOrganization(row)]));
    return keys.map((key) => found.get(normalizeId(key)) ?? null);
  }, options);

  return {
    byId,

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

    // A caller's memberships come with their organizations, which access checks are about to
    // read anyway: one statement instead of two for what a member asks of their own organization.
    // Only the caller's own are ever asked for, one user per request: the statement takes one.
    membershipsOfUser: new DataLoader(
      async ([userId]) => {
        const rows = await preparedQuery<OrganizationRow & { role: OrgRole; m_created_at: Date; m_updated_at: Date }>(dataSource, MEMBERSHIPS_OF_USER, [userId]);
        for (const row of rows) byId.prime(row.id, toOrganization(row));
        return [
          rows.map((row) =>
            Object.assign(new MembershipEntity(), { organizationId: row.id, userId, role: row.role, createdAt: row.m_created_at, updatedAt: row.m_updated_at }),
          ),
        ];
      },
      { maxBatchSize: 1 },
    ),

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
