import { SignJWT, UnsecuredJWT } from 'jose';
import type { DataSource } from 'typeorm';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeMembership, makeOrganization, OrgRole } from './factories';
import { TEST_JWT_SECRET, type TestServer } from './test-server';

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

const WRONG_SECRET = 'another-secret-that-is-also-at-least-32-characters';

/** Authorization headers that must never authenticate; each claims to be the operator `ops`. */
export interface RejectedAuthorizations {
  basic: string;
  noScheme: string;
  notJwt: string;
  wrongSecret: string;
  expired: string;
  unsigned: string;
  noExp: string;
}

export async function makeRejectedAuthorizations(server: TestServer): Promise<RejectedAuthorizations> {
  const operatorClaims = { roles: ['operator'] };
  const signed = (secret: string) =>
    new SignJWT(operatorClaims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('ops').setIssuedAt();
  return {
    basic: 'Basic b3BzOnNlY3JldA==',
    noScheme: await server.token('ops', { operator: true }),
    notJwt: 'Bearer not-a-jwt',
    wrongSecret: `Bearer ${await signed(WRONG_SECRET).setExpirationTime('1h').sign(new TextEncoder().encode(WRONG_SECRET))}`,
    // jose takes a negative relative time: exp is 60 s in the past, beyond the 30 s clock tolerance.
    expired: `Bearer ${await server.token('ops', { operator: true, ttl: '-1m' })}`,
    unsigned: `Bearer ${new UnsecuredJWT(operatorClaims).setSubject('ops').setIssuedAt().setExpirationTime('1h').encode()}`,
    noExp: `Bearer ${await signed(TEST_JWT_SECRET).sign(new TextEncoder().encode(TEST_JWT_SECRET))}`,
  };
}
