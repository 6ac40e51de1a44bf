import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, badInput, notFound } from '../errors';
import { invalidate } from '../invalidation';
import { checkedName } from '../names';
import { normalizeId } from '../database/keys';
import type { Repositories } from '../repositories';
import { ORGANIZATION_NAME_MAX_LENGTH, type OrganizationEntity } from './organization.entity';
import type { OrganizationConnection } from './organization.types';
import type { CreateOrganizationInput, MoveOrganizationInput } from './organization.types';

export const ORGANIZATIONS_PAGE_DEFAULT = 20;
/** The most organizations one page holds; larger `first` values are capped to it. */
export const ORGANIZATIONS_PAGE_MAX = 100;

const CURSOR_PREFIX = 'organization:';
/** created_at as PostgreSQL prints it (microseconds and offset kept), then the id. */
const CURSOR = /^organization:(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?[+-]\d{2}(?::\d{2}){0,2})\|([0-9a-f-]{36})$/;

function organizationCursor(position: { createdAt: string; id: string }): string {
  return Buffer.from(`${CURSOR_PREFIX}${position.createdAt}|${position.id}`).toString('base64url');
}

function positionOf(cursor: string): { createdAt: string; id: string } {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badInput('after is not a cursor of this list of organizations', 'after');
  return { createdAt: match[1], id: match[2] };
}

/** A search term as an ILIKE pattern that matches it literally anywhere in a name. */
const containing = (search: string) => `%${search.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;


/** Trims an organization name and checks it: not blank, not too long, no control characters. */
export function organizationName(raw: string): string {
  return checkedName(raw, { what: 'organization name', field: 'name', maxLength: ORGANIZATION_NAME_MAX_LENGTH });
}

export class OrganizationService {
  constructor(private readonly audit: AuditLogService) {}

  /** The organization, or NOT_FOUND. */
  async get(ctx: RequestContext, id: string): Promise<OrganizationEntity> {
    const organization = await ctx.loaders.organizations.byId.load(id);
    if (!organization) throw notFound('Organization', id);
    return organization;
  }

  /** The organization, or null when there is none with that id. */
  find(ctx: RequestContext, id: string): Promise<OrganizationEntity | null> {
    return ctx.loaders.organizations.byId.load(id);
  }

  /**
   * A page of the organizations the caller may list (operators: all; others: those they are a
   * member of), newest first, in one statement; its rows prime the request's organizations.
   */
  async page(ctx: RequestContext, args: { search?: string | null; first?: number | null; after?: string | null }): Promise<OrganizationConnection> {
    const first = args.first ?? ORGANIZATIONS_PAGE_DEFAULT;
    if (!Number.isInteger(first) || first < 0) throw badInput('first must be zero or more', 'first');
    const search = args.search?.trim() ?? '';
    if (search.length > ORGANIZATION_NAME_MAX_LENGTH) throw badInput(`search must be at most ${ORGANIZATION_NAME_MAX_LENGTH} characters`, 'search');
    const after = args.after ? positionOf(args.after) : null;
    const limit = Math.min(first, ORGANIZATIONS_PAGE_MAX);
    if (limit === 0) return { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
    const rows = await ctx.repos.organizations.page({
      memberId: ctx.access.isOperator ? null : ctx.principal!.userId,
      namePattern: search ? containing(search) : null,
      after,
      limit: limit + 1,
    });
    const edges = rows.slice(0, limit).map(({ organization, position }) => {
      ctx.loaders.organizations.byId.prime(organization.id, organization);
      return { cursor: organizationCursor(position), node: organization };
    });
    return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  async parentOf(ctx: RequestContext, organization: OrganizationEntity): Promise<OrganizationEntity | null> {
    return organization.parentId ? ctx.loaders.organizations.byId.load(organization.parentId) : null;
  }

  subOrganizationsOf(ctx: RequestContext, organization: OrganizationEntity): Promise<OrganizationEntity[]> {
    return ctx.loaders.organizations.children.load(organization.id);
  }

  isParent(ctx: RequestContext, organization: OrganizationEntity): Promise<boolean> {
    return ctx.loaders.organizations.hasChildren.load(organization.id);
  }

  async create(ctx: RequestContext, input: CreateOrganizationInput): Promise<OrganizationEntity> {
    const name = organizationName(input.name);
    if (input.parentId) await this.get(ctx, input.parentId);
    const parentId = input.parentId ? normalizeId(input.parentId) : null;
    const organization = await ctx.repos.transaction(async (tx) => {
      const created = await tx.organizations.insert({ name, parentId });
      await this.audit.record(tx, ctx, {
        organizationId: created.id,
        action: AuditAction.ORGANIZATION_CREATED,
        after: { name, parentId },
      });
      return created;
    });
    invalidate.tree(ctx);
    return organization;
  }

  /**
   * Moves an organization under another parent (or to the root). Moves are serialized by a
   * transaction-scoped advisory lock; under READ COMMITTED each statement after the lock sees
   * every earlier move, so the cycle check cannot miss one (a snapshot taken before the lock,
   * as REPEATABLE READ would, could).
   */
  async move(ctx: RequestContext, input: MoveOrganizationInput): Promise<OrganizationEntity> {
    const id = normalizeId(input.organizationId);
    const parentId = input.parentId ? normalizeId(input.parentId) : null;
    const moved = await ctx.repos.transaction(async (tx) => {
      await tx.organizations.lockTree();
      const organization = await tx.organizations.find(id);
      if (!organization) throw notFound('Organization', id);
      if (parentId !== null) {
        if (!(await tx.organizations.find(parentId))) throw notFound('Organization', parentId);
        if (parentId === id || (await this.isAncestor(tx, id, parentId))) {
          throw new DomainError(
            ErrorCode.CYCLE,
            'An organization cannot move under itself or one of its own sub-organizations',
            { organizationId: id, parentId },
          );
        }
      }
      const result = await tx.organizations.move(id, parentId);
      await this.audit.record(tx, ctx, {
        organizationId: id,
        action: AuditAction.ORGANIZATION_MOVED,
        before: { parentId: organization.parentId },
        after: { parentId },
      });
      return result;
    }, 'READ COMMITTED');
    invalidate.tree(ctx);
    return moved;
  }

  /** Whether `ancestorId` stands on the chain from `organizationId` up to its root. */
  private async isAncestor(tx: Repositories, ancestorId: string, organizationId: string): Promise<boolean> {
    const [chain] = await tx.organizations.ancestorIds([organizationId]);
    return chain.includes(ancestorId);
  }
}
