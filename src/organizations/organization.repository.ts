import DataLoader from 'dataloader';
import { all, byIdKeys, normalizeId, one, uuidsOf } from '../database/keys';
import { type Runner, query, statement } from '../database/statements';
import { MembershipEntity, type OrgRole } from './membership.entity';
import { OrganizationEntity } from './organization.entity';

/** The longest ancestor chain a recursive walk follows: a guard, the tree has no cycles. */
export const MAX_TREE_DEPTH = 10_000;

/** The largest batch that walks with ANCESTOR_CHAIN_OF_FEW (measured: the two cost alike near 20). */
export const FEW_ORGANIZATIONS = 16;

/**
 * The recursive walk from each organization of `$1` (uuid[]) up to its root, `$2` levels at most:
 * `chain (start_id, id, parent_id, depth, name, created_at, updated_at)`, depth 0 being the
 * organization itself, whose row the last three columns carry (null above it; the walk of
 * model-settings.repository.ts primes byId with them, ANCESTOR_IDS ignores them). Statements that
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

export interface OrganizationRow {
  id: string;
  name: string;
  parent_id: string | null;
  created_at: Date;
  updated_at: Date;
}

interface MembershipRow {
  organization_id: string;
  user_id: string;
  role: OrgRole;
  created_at: Date;
  updated_at: Date;
}

const ORGANIZATION_COLUMNS = 'o.id, o.name, o.parent_id, o.created_at, o.updated_at';
const MEMBERSHIP_COLUMNS = 'm.organization_id, m.user_id, m.role, m.created_at, m.updated_at';

/** An organization from its row. */
export function toOrganization(row: OrganizationRow): OrganizationEntity {
  return Object.assign(new OrganizationEntity(), {
    id: row.id,
    name: row.name,
    parentId: row.parent_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

function toMembership(row: MembershipRow): MembershipEntity {
  return Object.assign(new MembershipEntity(), {
    organizationId: row.organization_id,
    userId: row.user_id,
    role: row.role,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

const ORGANIZATIONS_BY_ID = statement(
  'byom_organizations_by_id',
  `SELECT ${ORGANIZATION_COLUMNS} FROM organization o WHERE o.id = ANY($1::uuid[])`,
  { prepared: true },
);

const CHILDREN = statement(
  'organization_children',
  `SELECT ${ORGANIZATION_COLUMNS} FROM organization o WHERE o.parent_id = ANY($1::uuid[]) ORDER BY o.name, o.id`,
);

const WITH_CHILDREN = statement(
  'organization_with_children',
  `SELECT p.id FROM unnest($1::uuid[]) AS p (id)
WHERE EXISTS (SELECT 1 FROM organization child WHERE child.parent_id = p.id)`,
);

/** One row per (organization, ancestor), nearest ancestor first. */
const ANCESTOR_IDS = statement(
  'organization_ancestor_ids',
  `${ANCESTOR_CHAIN}
SELECT start_id, id FROM chain WHERE depth > 0 ORDER BY start_id, depth`,
);

/**
 * A user's memberships (`$1`, one user id) with their organizations' rows. One user, not an
 * array of them: PostgreSQL keeps its generic plan, where an array's was planned on every call.
 */
export const MEMBERSHIPS_OF_USER = statement(
  'byom_memberships_of_user',
  `SELECT m.role, m.created_at AS m_created_at, m.updated_at AS m_updated_at, ${ORGANIZATION_COLUMNS}
FROM membership m JOIN organization o ON o.id = m.organization_id
WHERE m.user_id = $1`,
  { prepared: true },
);

const MEMBERS_OF = statement(
  'organization_members',
  `SELECT ${MEMBERSHIP_COLUMNS} FROM membership m WHERE m.organization_id = ANY($1::uuid[]) ORDER BY m.user_id`,
);

/**
 * A page of Query.organizations, newest first, from `from` and the conditions `where` (each line
 * of them joined by AND), then the page's own parameters from `$n` on: an ILIKE pattern or null,
 * the created_at text and id of the cursor (or nulls), how many rows. created_at comes back as
 * text too, to the microsecond, for the next cursor.
 */
function organizationPage(name: string, from: string, where: string[], n: number) {
  const conditions = [
    ...where,
    `($${n}::text IS NULL OR o.name ILIKE $${n})`,
    `($${n + 1}::timestamptz IS NULL OR (o.created_at, o.id) < ($${n + 1}::timestamptz, $${n + 2}::uuid))`,
  ];
  return statement(
    name,
    `SELECT ${ORGANIZATION_COLUMNS}, o.created_at::text AS created_at_text
FROM ${from}
WHERE ${conditions.join('\n  AND ')}
ORDER BY o.created_at DESC, o.id DESC
LIMIT $${n + 3}`,
  );
}

/**
 * An operator's page (every organization), read backwards along organization_created_at_id_idx
 * from the cursor: it reads its own rows, not the table (at 100,000 organizations 0.1 ms a page
 * instead of 50-67 ms of scanning and sorting).
 */
const ORGANIZATION_PAGE = organizationPage('organization_page', 'organization o', [], 1);

/**
 * A member's page (`$1` the user id), from their memberships (membership_user_id_idx): it reads
 * the organizations they belong to, not every organization to find them (40 ms a page at 100,000
 * organizations when it did).
 */
const MEMBER_ORGANIZATION_PAGE = organizationPage(
  'organization_page_of_member',
  'membership m\nJOIN organization o ON o.id = m.organization_id',
  ['m.user_id = $1'],
  2,
);

const INSERT_ORGANIZATION = statement(
  'organization_insert',
  'INSERT INTO organization (name, parent_id) VALUES ($1, $2) RETURNING id, name, parent_id, created_at, updated_at',
);

/** Serializes moves, so that two concurrent moves can never build a cycle together. */
const TREE_LOCK_KEY = 0x62796f6d; // "byom"

const LOCK_TREE = statement('organization_lock_tree', 'SELECT pg_advisory_xact_lock($1)');

const MOVE_ORGANIZATION = statement(
  'organization_move',
  'UPDATE organization SET parent_id = $2, updated_at = now() WHERE id = $1 RETURNING id, name, parent_id, created_at, updated_at',
);

/**
 * Gives a user a role, in one statement: a concurrent removal cannot slip between writing the
 * row and reading it back, and the role it replaced comes from the same snapshot.
 */
const SET_MEMBERSHIP = statement(
  'membership_set',
  `WITH previous AS (SELECT role FROM membership WHERE organization_id = $1 AND user_id = $2)
INSERT INTO membership (organization_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
RETURNING organization_id, user_id, role, created_at, updated_at, (SELECT role FROM previous) AS previous_role`,
);

const REMOVE_MEMBERSHIP = statement('membership_remove', 'DELETE FROM membership WHERE organization_id = $1 AND user_id = $2 RETURNING role');

/** The organization tree and memberships. */
export class OrganizationRepository {
  constructor(private readonly db: Runner) {}

  /** Batch function: organizations by id; null for ids without one. */
  byIds(keys: readonly string[]): Promise<(OrganizationEntity | null)[]> {
    return byIdKeys(keys, (ids) => this.rowsById(ids), (organization) => organization.id, one);
  }

  /** The organization, or null when there is none. */
  async find(id: string): Promise<OrganizationEntity | null> {
    const [found] = await this.byIds([id]);
    return found;
  }

  /** Batch function: each organization's direct sub-organizations, by name. */
  children(keys: readonly string[]): Promise<OrganizationEntity[][]> {
    return byIdKeys(
      keys,
      async (ids) => (await query<OrganizationRow>(this.db, CHILDREN, [ids])).map(toOrganization),
      (organization) => organization.parentId as string,
      all,
    );
  }

  /** Batch function: whether each organization has sub-organizations. */
  async haveChildren(keys: readonly string[]): Promise<boolean[]> {
    const ids = uuidsOf(keys);
    const rows = ids.length ? await query<{ id: string }>(this.db, WITH_CHILDREN, [ids]) : [];
    const parents = new Set(rows.map((row) => row.id));
    return keys.map((key) => parents.has(normalizeId(key)));
  }

  /** Batch function: each organization's ancestor ids, nearest first; empty for a root or an unknown organization. */
  ancestorIds(keys: readonly string[]): Promise<string[][]> {
    return byIdKeys(
      keys,
      (ids) => query<{ start_id: string; id: string }>(this.db, ANCESTOR_IDS, [ids, MAX_TREE_DEPTH]),
      (row) => row.start_id,
      (rows) => (rows ?? []).map((row) => row.id),
    );
  }

  /** A user's memberships, with their organizations (which the caller's access checks read next). */
  async membershipsOfUser(userId: string): Promise<{ memberships: MembershipEntity[]; organizations: OrganizationEntity[] }> {
    const rows = await query<OrganizationRow & { role: OrgRole; m_created_at: Date; m_updated_at: Date }>(this.db, MEMBERSHIPS_OF_USER, [userId]);
    return {
      memberships: rows.map((row) =>
        toMembership({ organization_id: row.id, user_id: userId, role: row.role, created_at: row.m_created_at, updated_at: row.m_updated_at }),
      ),
      organizations: rows.map(toOrganization),
    };
  }

  /** Batch function: each organization's memberships, by user id. */
  membersOf(keys: readonly string[]): Promise<MembershipEntity[][]> {
    return byIdKeys(
      keys,
      async (ids) => (await query<MembershipRow>(this.db, MEMBERS_OF, [ids])).map(toMembership),
      (membership) => membership.organizationId,
      all,
    );
  }

  /**
   * Organizations newest first, those `memberId` is a member of (null: all), whose names match
   * `namePattern` (ILIKE; null: any), after the position `after`; each with its position.
   */
  async page(args: {
    memberId: string | null;
    namePattern: string | null;
    after: { createdAt: string; id: string } | null;
    limit: number;
  }): Promise<{ organization: OrganizationEntity; position: { createdAt: string; id: string } }[]> {
    const page = [args.namePattern, args.after?.createdAt ?? null, args.after?.id ?? null, args.limit];
    const rows =
      args.memberId === null
        ? await query<OrganizationRow & { created_at_text: string }>(this.db, ORGANIZATION_PAGE, page)
        : await query<OrganizationRow & { created_at_text: string }>(this.db, MEMBER_ORGANIZATION_PAGE, [args.memberId, ...page]);
    return rows.map((row) => ({ organization: toOrganization(row), position: { createdAt: row.created_at_text, id: row.id } }));
  }

  async insert(values: { name: string; parentId: string | null }): Promise<OrganizationEntity> {
    const [row] = await query<OrganizationRow>(this.db, INSERT_ORGANIZATION, [values.name, values.parentId]);
    return toOrganization(row);
  }

  /** Takes the transaction-scoped lock that serializes moves. */
  async lockTree(): Promise<void> {
    await query(this.db, LOCK_TREE, [TREE_LOCK_KEY]);
  }

  /** Moves an organization under `parentId` (null: to the root) and answers it as it is now. */
  async move(id: string, parentId: string | null): Promise<OrganizationEntity> {
    const [row] = await query<OrganizationRow>(this.db, MOVE_ORGANIZATION, [normalizeId(id), parentId]);
    if (!row) throw new Error(`The organization ${id} is gone`);
    return toOrganization(row);
  }

  /** Gives a user a role in an organization; answers the membership and the role it replaced (null: none). */
  async setMembership(organizationId: string, userId: string, role: OrgRole): Promise<{ membership: MembershipEntity; previousRole: OrgRole | null }> {
    const [row] = await query<MembershipRow & { previous_role: OrgRole | null }>(this.db, SET_MEMBERSHIP, [organizationId, userId, role]);
    return { membership: toMembership(row), previousRole: row.previous_role };
  }

  /** Removes a membership; answers the role it held, or null when there was none. */
  async removeMembership(organizationId: string, userId: string): Promise<OrgRole | null> {
    const [row] = await query<{ role: OrgRole }>(this.db, REMOVE_MEMBERSHIP, [organizationId, userId]);
    return row?.role ?? null;
  }

  private async rowsById(ids: string[]): Promise<OrganizationEntity[]> {
    return (await query<OrganizationRow>(this.db, ORGANIZATIONS_BY_ID, [ids])).map(toOrganization);
  }
}

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

export function createOrganizationLoaders(organizations: OrganizationRepository): OrganizationLoaders {
  const options = { cacheKeyFn: normalizeId };
  const byId = new DataLoader<string, OrganizationEntity | null>((keys) => organizations.byIds(keys), options);
  return {
    byId,
    children: new DataLoader((keys) => organizations.children(keys), options),
    hasChildren: new DataLoader((keys) => organizations.haveChildren(keys), options),
    ancestorIds: new DataLoader((keys) => organizations.ancestorIds(keys), options),
    // A caller's memberships come with their organizations, which access checks are about to
    // read anyway: one statement instead of two for what a member asks of their own organization.
    // Only the caller's own are ever asked for, one user per request: the statement takes one.
    membershipsOfUser: new DataLoader(
      async ([userId]) => {
        const found = await organizations.membershipsOfUser(userId);
        for (const organization of found.organizations) byId.prime(organization.id, organization);
        return [found.memberships];
      },
      { maxBatchSize: 1 },
    ),
    membersOf: new DataLoader((keys) => organizations.membersOf(keys), options),
  };
}

