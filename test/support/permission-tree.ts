import { SignJWT, UnsecuredJWT } from 'jose';
import type { DataSource } from 'typeorm';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeMembership, makeOrganization, OrgRole } from './factories';
import { type GraphQLResponse, OPERATOR, type RequestOptions, TEST_JWT_SECRET, type TestServer } from './test-server';

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

/** How a test calls: a user id, an operator, a raw Authorization header, or nothing. */
export type As = RequestOptions['as'];
export { OPERATOR };

export type OrgKey = keyof PermissionTree;
export type Role = 'ADMIN' | 'MEMBER';

export const ORG_KEYS: OrgKey[] = ['acme', 'acmeEu', 'sales', 'acmeUs', 'globex', 'hooli', 'umbrella'];
export const ORG_NAMES: Record<OrgKey, string> = {
  acme: 'Acme',
  acmeEu: 'Acme EU',
  sales: 'Acme EU Sales',
  acmeUs: 'Acme US',
  globex: 'Globex',
  hooli: 'Hooli',
  umbrella: 'Umbrella',
};

/** A caller with a valid token, and its role in each organization (an operator reads like an admin everywhere). */
export interface Caller {
  label: string;
  as: As;
  roles: Partial<Record<OrgKey, Role>>;
}
export const CALLERS: Caller[] = [
  { label: 'an operator', as: OPERATOR, roles: Object.fromEntries(ORG_KEYS.map((key) => [key, 'ADMIN'])) },
  { label: 'an admin of the organization', as: 'eu-admin', roles: { acmeEu: 'ADMIN' } },
  { label: 'a member of the organization', as: 'eu-member', roles: { acmeEu: 'MEMBER' } },
  { label: 'an admin of the parent organization', as: 'parent-admin', roles: { acme: 'ADMIN' } },
  { label: 'a member of a sub-organization', as: 'sales-member', roles: { sales: 'MEMBER' } },
  { label: 'a member of a sibling organization', as: 'us-member', roles: { acmeUs: 'MEMBER' } },
  { label: 'an admin of another organization', as: 'globex-admin', roles: { globex: 'ADMIN' } },
  { label: 'a member of another organization', as: 'hooli-member', roles: { hooli: 'MEMBER' } },
  { label: 'an admin of one organization who is a member of another', as: 'mixed', roles: { hooli: 'ADMIN', umbrella: 'MEMBER' } },
  { label: 'a signed-in user with no membership', as: 'stranger', roles: {} },
];
export const isMember = (caller: Caller, key: OrgKey) => caller.roles[key] !== undefined;
export const isAdmin = (caller: Caller, key: OrgKey) => caller.roles[key] === 'ADMIN';

/** Each organization's parent in the tree makePermissionTree builds. */
const PARENT_OF: Partial<Record<OrgKey, OrgKey>> = { acmeEu: 'acme', sales: 'acmeEu', acmeUs: 'acme' };
/** The organization and its ancestors, nearest first. */
const lineOf = (key: OrgKey): OrgKey[] => {
  const parent = PARENT_OF[key];
  return parent ? [key, ...lineOf(parent)] : [key];
};
/**
 * Whether the caller may see the organization's id and name (src/auth/access.ts canSee): operators,
 * its members, and the members of any of its ancestors or descendants.
 */
export const canSee = (caller: Caller, key: OrgKey) =>
  ORG_KEYS.some((other) => isMember(caller, other) && (lineOf(key).includes(other) || lineOf(other).includes(key)));
/** The user id a caller's changes and runs are recorded under. */
export const actorOf = (as: As) => (typeof as === 'string' ? as : 'ops');

export type ErrorPath = (string | number)[];
const byPath = (a: { path?: unknown }, b: { path?: unknown }) => JSON.stringify(a.path).localeCompare(JSON.stringify(b.path));

/** The errors of a response as [path, code] pairs, sorted, for exact comparisons. */
export const errorsOf = (response: GraphQLResponse) =>
  (response.errors ?? []).map((error) => ({ path: error.path, code: error.extensions.code })).sort(byPath);

/** Expected errors, in the order errorsOf gives them. */
export const expected = (errors: { path: ErrorPath; code: string }[]) => [...errors].sort(byPath);

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

/** A caller without a valid token, and what the UNAUTHENTICATED message says of it. */
export interface UnauthenticatedCaller {
  label: string;
  /** Read when a test runs: the headers are made in beforeAll. */
  as: () => As;
  message: RegExp;
}

/** Every kind of caller without a valid token: each gets UNAUTHENTICATED, whatever its token claims. */
export function unauthenticatedCallers(headers: () => RejectedAuthorizations): UnauthenticatedCaller[] {
  return [
    { label: 'a caller without a token', as: () => undefined, message: /Authentication required/ },
    { label: 'a caller with a Basic Authorization header', as: () => ({ raw: headers().basic }), message: /must be "Bearer <token>"/ },
    { label: 'a caller whose header lacks the Bearer scheme', as: () => ({ raw: headers().noScheme }), message: /must be "Bearer <token>"/ },
    { label: 'a caller whose bearer token is not a JWT', as: () => ({ raw: headers().notJwt }), message: /not valid/ },
    { label: 'a token signed with the wrong secret', as: () => ({ raw: headers().wrongSecret }), message: /not valid/ },
    { label: 'an expired token', as: () => ({ raw: headers().expired }), message: /expired/ },
    { label: 'an unsigned (alg none) token', as: () => ({ raw: headers().unsigned }), message: /not valid/ },
    { label: 'a token without exp', as: () => ({ raw: headers().noExp }), message: /not valid/ },
  ];
}
