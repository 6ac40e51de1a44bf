import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import type { RequestContext } from '../context';
import { invalidate } from '../invalidation';
import type { MembershipEntity } from './membership.entity';
import type { OrganizationEntity } from './organization.entity';
import type { OrganizationService } from './organization.service';
import type { RemoveMembershipInput, SetMembershipInput } from './organization.types';

export class MembershipService {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly audit: AuditLogService,
  ) {}

  /** Gives a user a role in an organization, replacing any role they had there. */
  async set(ctx: RequestContext, input: SetMembershipInput): Promise<MembershipEntity> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    const membership = await ctx.repos.transaction(async (tx) => {
      const { membership: set, previousRole } = await tx.organizations.setMembership(organization.id, input.userId, input.role);
      // Setting the role a user already has changes nothing, and so is not an event.
      if (previousRole !== set.role) {
        await this.audit.record(tx, ctx, {
          organizationId: organization.id,
          action: AuditAction.MEMBERSHIP_SET,
          before: previousRole ? { userId: set.userId, role: previousRole } : null,
          after: { userId: set.userId, role: set.role },
        });
      }
      return set;
    });
    invalidate.membership(ctx, input.userId);
    return membership;
  }

  /** Removes a user's membership; false when they had none there. */
  async remove(ctx: RequestContext, input: RemoveMembershipInput): Promise<boolean> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    const removed = await ctx.repos.transaction(async (tx) => {
      const role = await tx.organizations.removeMembership(organization.id, input.userId);
      if (role === null) return false;
      await this.audit.record(tx, ctx, {
        organizationId: organization.id,
        action: AuditAction.MEMBERSHIP_REMOVED,
        before: { userId: input.userId, role },
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
