import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, notFound } from '../errors';
import { invalidate } from '../invalidation';
import { checkedName } from '../names';
import { normalizeId } from '../database/keys';
import type { Repositories } from '../repositories';
import { ORGANIZATION_NAME_MAX_LENGTH, type OrganizationEntity } from './organization.entity';

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

  async parentOf(ctx: RequestContext, organization: OrganizationEntity): Promise<OrganizationEntity | null> {
    return organization.parentId ? ctx.loaders.organizations.byId.load(organization.parentId) : null;
  }

  subOrganizationsOf(ctx: RequestContext, organization: OrganizationEntity): Promise<OrganizationEntity[]> {
    return ctx.loaders.organizations.children.load(organization.id);
  }

  isParent(ctx: RequestContext, organization: OrganizationEntity): Promise<boolean> {
    return ctx.loaders.organizations.hasChildren.load(organization.id);
  }

  async create(ctx: RequestContext, input: { name: string; parentId?: string | null }): Promise<OrganizationEntity> {
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
  async move(ctx: RequestContext, input: { organizationId: string; parentId?: string | null }): Promise<OrganizationEntity> {
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
