import type { DataSource } from 'typeorm';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeMembership, makeOrganization, OrgRole } from './factories';

/**
 * The organizations and users every permission matrix uses ("the organization" is Acme EU):
 *
 *   Acme            parent-admin (ADMIN)
 *   ├── Acme EU     eu-admin (ADMIN), eu-member (MEMBER)
 *   │   └── Acme EU Sales   sales-member (MEMBER)
 *   └── Acme US     us-member (MEMBER)
 *   Globex          globex-admin (ADMIN)
 *   Hooli           mixed (ADMIN), hooli-member (MEMBER)
 *   Umbrella        mixed (MEMBER)
 *
 * `stranger` (a valid token, no membership) and the operator `ops` need no rows.
 */
export interface PermissionTree {
  acme: OrganizationEntity;
  acmeEu: OrganizationEntity;
  sales: OrganizationEntity;
  acmeUs: OrganizationEntity;
  globex: OrganizationEntity;
  hooli: OrganizationEntity;
  umbrella: OrganizationEntity;
}

export async function makePermissionTree(ds: DataSource): Promise<PermissionTree> {
  const acme = await makeOrganization(ds, { name: 'Acme' });
  const acmeEu = await makeOrganization(ds, { name: 'Acme EU', parent: acme });
  const sales = await makeOrganization(ds, { name: 'Acme EU Sales', parent: acmeEu });
  const acmeUs = await makeOrganization(ds, { name: 'Acme US', parent: acme });
  const globex = await makeOrganization(ds, { name: 'Globex' });
  const hooli = await makeOrganization(ds, { name: 'Hooli' });
  const umbrella = await makeOrganization(ds, { name: 'Umbrella' });
  await makeMembership(ds, acme, 'parent-admin', OrgRole.ADMIN);
  await makeMembership(ds, acmeEu, 'eu-admin', OrgRole.ADMIN);
  await makeMembership(ds, acmeEu, 'eu-member', OrgRole.MEMBER);
  await makeMembership(ds, sales, 'sales-member', OrgRole.MEMBER);
  await makeMembership(ds, acmeUs, 'us-member', OrgRole.MEMBER);
  await makeMembership(ds, globex, 'globex-admin', OrgRole.ADMIN);
  await makeMembership(ds, hooli, 'mixed', OrgRole.ADMIN);
  await makeMembership(ds, hooli, 'hooli-member', OrgRole.MEMBER);
  await makeMembership(ds, umbrella, 'mixed', OrgRole.MEMBER);
  return { acme, acmeEu, sales, acmeUs, globex, hooli, umbrella };
}
