import { isUUID } from 'class-validator';
import { allow, and, deny, rule, shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield/typings/types';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, badInput } from '../errors';

/**
 * Who may do what (DESIGN.md section 2): the whole map, in one place, deny by default.
 *
 * Rules that read the parent or the arguments are never cached by rule name (`no_cache`); they
 * stay cheap because every check goes through the request's DataLoaders. A rule that fails (the
 * database is down) returns its error: graphql-shield would turn a thrown one into a silent
 * FORBIDDEN, and the caller would be told "no" when the truth is "broken".
 */

const forbidden = (message = 'You are not allowed to do this') => new DomainError(ErrorCode.FORBIDDEN, message);

/** Where a rule finds the organization it guards, and the field to name when that id is malformed. */
interface OrganizationIdSource {
  field: string;
  read(parent: unknown, args: Record<string, unknown>): unknown;
}

const fromParent: OrganizationIdSource = { field: 'id', read: (parent) => (parent as { id?: unknown }).id };
const fromArgument = (name: string): OrganizationIdSource => ({ field: name, read: (_parent, args) => args[name] });
const fromInput = (name: string): OrganizationIdSource => ({
  field: `input.${name}`,
  read: (_parent, args) => (args.input as Record<string, unknown> | undefined)?.[name],
});

/** Reads an organization id for a rule; a malformed one is the caller's input error, not a denial. */
function organizationId(source: OrganizationIdSource, parent: unknown, args: Record<string, unknown>) {
  const id = source.read(parent, args);
  if (typeof id !== 'string' || !isUUID(id)) return badInput(`${source.field} must be an organization id (a UUID)`, source.field);
  return id;
}

const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, ctx: RequestContext) =>
  ctx.principal ? true : new DomainError(ErrorCode.UNAUTHENTICATED, ctx.authFailure ?? 'Authentication required'),
);

const isOperatorRule = rule({ cache: 'contextual' })((_parent, _args, ctx: RequestContext) =>
  ctx.access.isOperator ? true : forbidden('Only platform operators may do this'),
);
const isOperator = and(isAuthenticated, isOperatorRule);

type AccessCheck = 'canSee' | 'isMember' | 'isAdmin';
const denials: Record<AccessCheck, string> = {
  canSee: 'You are not allowed to see this organization',
  isMember: 'Only members of this organization may see or do this',
  isAdmin: 'Only admins of this organization may see or do this',
};

function organizationRule(check: AccessCheck, source: OrganizationIdSource) {
  const allowed = rule({ cache: 'no_cache' })(async (parent, args, ctx: RequestContext) => {
    const id = organizationId(source, parent, args);
    if (typeof id !== 'string') return id;
    try {
      return (await ctx.access[check](id)) ? true : forbidden(denials[check]);
    } catch (error) {
      return error as Error;
    }
  });
  return and(isAuthenticated, allowed);
}

export const permissionRules: IRules = {
  Query: {
    _service: allow,
    // Entities arrive through their own fields' rules, below.
    _entities: allow,
    viewer: isAuthenticated,
    modelCatalog: isAuthenticated,
    organization: organizationRule('canSee', fromArgument('id')),
  },
  Mutation: {
    createOrganization: isOperator,
    moveOrganization: isOperator,
    setMembership: isOperator,
    removeMembership: isOperator,
    connectProvider: organizationRule('isAdmin', fromInput('organizationId')),
    disconnectProvider: organizationRule('isAdmin', fromInput('organizationId')),
  },
  _Service: allow,
  Viewer: isAuthenticated,
  Model: isAuthenticated,
  Membership: isAuthenticated,
  Organization: {
    id: isAuthenticated,
    name: organizationRule('canSee', fromParent),
    viewerRole: organizationRule('isMember', fromParent),
    parent: organizationRule('isMember', fromParent),
    subOrganizations: organizationRule('isMember', fromParent),
    isParent: organizationRule('isMember', fromParent),
    memberships: organizationRule('isAdmin', fromParent),
    providerConnections: organizationRule('isAdmin', fromParent),
    auditLog: organizationRule('isAdmin', fromParent),
  },
  // Reached only through the admin-only fields above.
  ProviderConnection: isAuthenticated,
  AuditEventConnection: isAuthenticated,
  AuditEventEdge: isAuthenticated,
  AuditEvent: isAuthenticated,
  PageInfo: isAuthenticated,
};

export const permissions = shield(permissionRules, {
  fallbackRule: deny,
  fallbackError: () => forbidden(),
  // Errors thrown by resolvers are theirs to report; formatError masks the unexpected ones.
  allowExternalErrors: true,
});
