import { OrgRole } from '../organizations/membership.entity';
import { normalizeId, type OrganizationLoaders } from '../organizations/organization.loaders';
import type { Principal } from './authentication';

/**
 * What the caller of one request may see and do (DESIGN.md section 2). Made per request; every
 * answer comes from that request's loaders, so checking a hundred organizations costs the same
 * few statements as checking one.
 */
export class Access {
  constructor(
    readonly principal: Principal | null,
    private readonly loaders: OrganizationLoaders,
  ) {}

  get isOperator(): boolean {
    return this.principal?.isOperator ?? false;
  }

  /** The caller's own role in the organization; null when not a member. */
  async roleIn(organizationId: string): Promise<OrgRole | null> {
    if (!this.principal) return null;
    const memberships = await this.loaders.membershipsOfUser.load(this.principal.userId);
    const id = normalizeId(organizationId);
    return memberships.find((membership) => membership.organizationId === id)?.role ?? null;
  }

  /** Members and admins of the organization; operators everywhere. */
  async isMember(organizationId: string): Promise<boolean> {
    return this.isOperator || (await this.roleIn(organizationId)) !== null;
  }

  /** Admins of the organization; operators everywhere (they read like admins). */
  async isAdmin(organizationId: string): Promise<boolean> {
    return this.isOperator || (await this.roleIn(organizationId)) === OrgRole.ADMIN;
  }

  /**
   * Whether the caller may see the organization's id and name: operators, its members, and the
   * members of any of its ancestors or descendants ("inherited from Acme" can be shown).
   */
  async canSee(organizationId: string): Promise<boolean> {
    if (!this.principal) return false;
    if (await this.isMember(organizationId)) return true;
    const memberships = await this.loaders.membershipsOfUser.load(this.principal.userId);
    if (memberships.length === 0) return false;
    const memberOf = new Set(memberships.map((membership) => membership.organizationId));
    const id = normalizeId(organizationId);
    const [ancestorsOfTarget, ...ancestorsOfMemberships] = await Promise.all([
      this.loaders.ancestorIds.load(id),
      ...[...memberOf].map((orgId) => this.loaders.ancestorIds.load(orgId)),
    ]);
    return (
      ancestorsOfTarget.some((ancestor) => memberOf.has(ancestor)) ||
      ancestorsOfMemberships.some((ancestors) => ancestors.includes(id))
    );
  }
}
