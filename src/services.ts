import type { DataSource } from 'typeorm';
import { MembershipService } from './organizations/membership.service';
import { OrganizationService } from './organizations/organization.service';

/** The service layer, made once per process; every method takes the request context first. */
export interface Services {
  organizations: OrganizationService;
  memberships: MembershipService;
}

export function createServices(dataSource: DataSource): Services {
  const organizations = new OrganizationService(dataSource);
  return {
    organizations,
    memberships: new MembershipService(dataSource, organizations),
  };
}
