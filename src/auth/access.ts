import type DataLoader from 'dataloader';
import { normalizeId } from '../database/keys';
import { OrgRole } from '../organizations/membership.entity';
import type { OrganizationWalk } from '../organizations/organization-walk';
import type { OrganizationLoaders } from '../organizations/organization.repository';
import type { Principal } from './authentication';

/**
 * How a check finds the caller's role: from the caller's memberships (one statement for every
 * organization), or from the organization's walk, when the request goes on to read what the
 * walk holds (effective models): then the check and the read are one statement.
 */
export interface CheckOptions {
  withWalk?: boolean;
}

/**
 * What the caller of one request may see and do (DESIGN.md section 2). Made per request; every
 * answer comes from that request's loaders, so checking a hundred organizations costs the same
 * few statements as checking one.
 */
export class Access {
  /** Roles read from walks, by organization id; a later check of one of them reads no more. */
  private readonly walkedRoles = new Map<string, Promise<OrgRole | null>>();

  constructor(
    readonly principal: Principal | null,
    private readonly loaders: OrganizationLoaders,
    private readonly walks: DataLoader<string, OrganizationWalk | null>,
  ) {}

  get isOperator(): boolean {
    return this.principal?.isOperator ?? false;
  }

  /** The caller's own role in the organization; null when not a member. */
  async roleIn(organizationId: string, { withWalk = false }: CheckOptions = {}): Promise<OrgRole | null> {
    if (!this.principal) return null;
    const id = normalizeId(organizationId);
    let walked = this.walkedRoles.get(id);
    if (!walked && withWalk) {
      walked = this.walks.load(id).then((walk) => walk?.callerRole ?? null);
      this.walkedRoles.set(id, walked);
      // A failed walk is not remembered: a later check may read the memberships instead.
      const remembered = walked;
      remembered.catch(() => this.walkedRoles.get(id) === remembered && this.walkedRoles.delete(id));
    }
    if (walked) return walked;
    const memberships = await this.loaders.membershipsOfUser.load(this.principal.userId);
    return memberships.find((membership) => membership.organizationId === id)?.role ?? null;
  }

  /** Members and admins of the organization; operators everywhere. */
  async isMember(organizationId: string, options?: CheckOptions): Promise<boolean> {
    return this.isOperator || (await this.roleIn(organizationId, options)) !== null;
  }

  /** Admins of the organization; operators everywhere (they read like admins). */
  async isAdmin(organizationId: string, options?: CheckOptions): Promise<boolean> {
    return this.isOperator || (await this.roleIn(organizationId, options)) === OrgRole.ADMIN;
  }

  /**
   * Whether the caller may see the organization's id and name: operators, its members, and the
   * members of any of its ancestors or descendants ("inherited from Acme" can be shown).
   */
  async canSee(organizationId: string, options?: CheckOptions): Promise<boolean> {
    if (!this.principal) return false;
    if (await this.isMember(organizationId, options)) return true;
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

  /** Forgets the roles read from walks, and the walks, after a change to memberships. */
  forgetWalkedRoles(): void {
    this.walkedRoles.clear();
    this.walks.clearAll();
  }
}
