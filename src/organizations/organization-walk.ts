import type { OrgRole } from './membership.entity';
import type { OrganizationEntity } from './organization.entity';

/**
 * An organization as one walk up the tree finds it for the caller: its row and the caller's role
 * in it. Access checks that precede a read of what the walk also holds (model settings add the
 * effective models) take the caller's role from here, so that the check and the read are one
 * statement.
 */
export interface OrganizationWalk {
  organization: OrganizationEntity;
  /** The caller's role in the organization; null for a non-member or when there is no caller. */
  callerRole: OrgRole | null;
}
