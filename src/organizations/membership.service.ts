import { AuditRepository } from '../audit/audit.repository';
import type { DataSource } from 'typeorm';
import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import type { RequestContext } from '../context';
import { invalidate } from '../invalidation';
import { MembershipEntity, type OrgRole } from './membership.entity';
import type { OrganizationEntity } from './organization.entity';
import type { OrganizationService } from './organization.service';

export class MembershipService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly organizations: OrganizationService,
    private readonly audit: AuditLogService,
  ) {}

  /** Gives a user a role in an organization, replacing any role they had there. */
  async set(ctx: RequestContext, input: { organizationId: string; userId: string; role: OrgRole }): Promise<MembershipEntity> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    const membership = await this.dataSource.transaction(async (manager) => {
      // One statement: a concurrent removal cannot slip between writing the row and reading it
      // back, and the role it replaced comes from the same snapshot.
      const [row] = await manager.query(
        `WITH previous AS (SELECT role FROM membership WHERE organization_id = $1 AND user_id = $2)
         INSERT INTO membership (organization_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
         RETURNING organization_id, user_id, role, created_at, updated_at, (SELECT role FROM previous) AS previous_role`,
        [organization.id, input.userId, input.role],
      );
      // Setting the role a user already has changes nothing, and so is not an event.
      if (row.previous_role !== row.role) {
        await this.audit.record({ audit: new AuditRepository(manager) }, ctx, {
          organizationId: organization.id,
          action: AuditAction.MEMBERSHIP_SET,
          before: row.previous_role ? { userId: row.user_id, role: row.previous_role } : null,
          after: { userId: row.user_id, role: row.role },
        });
      }
      return manager.create(MembershipEntity, {
        organizationId: row.organization_id,
        userId: row.user_id,
        role: row.role,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      });
    });
    invalidate.membership(ctx, input.userId);
    return membership;
  }

  /** Removes a user's membership; false when they had none there. */
  async remove(ctx: RequestContext, input: { organizationId: string; userId: string }): Promise<boolean> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    const removed = await this.dataSource.transaction(async (manager) => {
      const { raw: rows } = await manager
        .createQueryBuilder()
        .delete()
        .from(MembershipEntity)
        .where({ organizationId: organization.id, userId: input.userId })
        .returning(['role'])
        .execute();
      if (rows.length === 0) return false;
      await this.audit.record({ audit: new AuditRepository(manager) }, ctx, {
        organizationId: organization.id,
        action: AuditAction.MEMBERSHIP_REMOVED,
        before: { userId: input.userId, role: (rows as { role: OrgRole }[])[0].role },
      });
      return true;
    });
    invalidate.membership(ctx, input.userId);
    return removed;
  }

  /** An organization's members and admins, by user id. */
  membersOf(ctx: RequestContext, organization: OrganizationEntity): Promise<MembershipEntity[]> {
    return ctx.loaders.organizations.membersOf.load(organization.id);
  }

  /** The organizations the caller belongs to, by name. */
  async organizationsOfViewer(ctx: RequestContext): Promise<OrganizationEntity[]> {
    if (!ctx.principal) return [];
    const memberships = await ctx.loaders.organizations.membershipsOfUser.load(ctx.principal.userId);
    // load, not loadMany: loadMany hands back failures as array items, which must not pass unseen.
    const organizations = await Promise.all(memberships.map((m) => ctx.loaders.organizations.byId.load(m.organizationId)));
    return organizations
      .filter((organization): organization is OrganizationEntity => organization !== null)
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }
}
