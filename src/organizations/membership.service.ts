import type { DataSource } from 'typeorm';
import type { RequestContext } from '../context';
import { MembershipEntity, type OrgRole } from './membership.entity';
import type { OrganizationEntity } from './organization.entity';
import type { OrganizationService } from './organization.service';

export class MembershipService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly organizations: OrganizationService,
  ) {}

  /** Gives a user a role in an organization, replacing any role they had there. */
  async set(ctx: RequestContext, input: { organizationId: string; userId: string; role: OrgRole }): Promise<MembershipEntity> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    // One statement: a concurrent removal cannot slip between writing the row and reading it back.
    const [row] = await this.dataSource.query(
      `INSERT INTO membership (organization_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
       RETURNING organization_id, user_id, role, created_at, updated_at`,
      [organization.id, input.userId, input.role],
    );
    this.forgetMemberships(ctx, input.userId);
    return this.dataSource.getRepository(MembershipEntity).create({
      organizationId: row.organization_id,
      userId: row.user_id,
      role: row.role,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }

  /** Removes a user's membership; false when they had none there. */
  async remove(ctx: RequestContext, input: { organizationId: string; userId: string }): Promise<boolean> {
    const organization = await this.organizations.get(ctx, input.organizationId);
    const result = await this.dataSource
      .getRepository(MembershipEntity)
      .delete({ organizationId: organization.id, userId: input.userId });
    this.forgetMemberships(ctx, input.userId);
    return (result.affected ?? 0) > 0;
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

  private forgetMemberships(ctx: RequestContext, userId: string): void {
    ctx.loaders.organizations.membershipsOfUser.clear(userId);
    ctx.loaders.organizations.membersOf.clearAll();
  }
}
