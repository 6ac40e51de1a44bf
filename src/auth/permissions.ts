import { isUUID } from 'class-validator';
import { type GraphQLResolveInfo, type GraphQLSchema, isUnionType, Kind, type SelectionNode } from 'graphql';
import { middleware, type IMiddlewareFieldMap, type IMiddlewareGenerator, type IMiddlewareTypeMap } from 'graphql-middleware';
import { allow, and, chain, deny, type IRules, rule, shield } from 'graphql-shield';
import type { RequestContext } from '../context';
import { normalizeId } from '../database/keys';
import { DomainError, ErrorCode, badInput, unauthenticated } from '../errors';

/**
 * Who may do what (DESIGN.md section 2): the whole map, in one place, deny by default.
 *
 * Rules that read the parent or the arguments are never cached by rule name (`no_cache`); they
 * stay cheap because every check goes through the request's DataLoaders. A rule that fails (the
 * database is down) returns its error: graphql-shield would turn a thrown one into a silent
 * FORBIDDEN, and the caller would be told "no" when the truth is "broken".
 */

const forbidden = (message = 'You are not allowed to do this') => new DomainError(ErrorCode.FORBIDDEN, message);

/**
 * Where a rule finds the organization it guards: an id, null when the thing the organization was
 * to be read from (an agent or a run) does not exist, or the caller's input error for a malformed id.
 */
type OwnerSource = (parent: unknown, args: Record<string, unknown>, ctx: RequestContext) => string | null | Error | Promise<string | null | Error>;

const inputOf = (args: Record<string, unknown>) => (args.input as Record<string, unknown> | undefined) ?? {};

/** An organization id given directly; a malformed one is the caller's input error, not a denial. */
function organizationId(field: string, read: (parent: unknown, args: Record<string, unknown>) => unknown): OwnerSource {
  return (parent, args) => {
    const id = read(parent, args);
    return typeof id === 'string' && isUUID(id) ? id : badInput(`${field} must be an organization id (a UUID)`, field);
  };
}

/** The organization of the agent or run whose id is given; null when there is none with that id. */
function organizationOf(what: 'agent' | 'run', field: string, read: (args: Record<string, unknown>) => unknown): OwnerSource {
  return async (_parent, args, ctx) => {
    const id = read(args);
    if (typeof id !== 'string' || !isUUID(id)) return badInput(`${field} must be ${what === 'agent' ? 'an agent' : 'a run'} id (a UUID)`, field);
    const loader = what === 'agent' ? ctx.loaders.agents.byId : ctx.loaders.runs.byId;
    return (await loader.load(id))?.organizationId ?? null;
  };
}

/** Organization fields: the organization itself. */
const fromParent = organizationId('id', (parent) => (parent as { id?: unknown }).id);
/** Fields of things an organization owns (agents, runs): their organization. */
const ownerOfParent: OwnerSource = (parent) => (parent as { organizationId: string }).organizationId;
const fromArgument = (name: string) => organizationId(name, (_parent, args) => args[name]);
const fromInput = (name: string) => organizationId(`input.${name}`, (_parent, args) => inputOf(args)[name]);
const agentFromArgument = (name: string) => organizationOf('agent', name, (args) => args[name]);
const agentFromInput = (name: string) => organizationOf('agent', `input.${name}`, (args) => inputOf(args)[name]);

const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, ctx: RequestContext) =>
  ctx.principal ? true : unauthenticated(ctx.authFailure),
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

/**
 * Whether what is guarded goes on to read the organization's effective models: then the check
 * reads the caller's role with the organization's walk, which the read needs next (Access, CheckOptions).
 */
type ReadsWalk = boolean | ((info: GraphQLResolveInfo) => boolean);

/** Whether the field being resolved selects `field` directly (fragments included) on its result. */
function selects(field: string): (info: GraphQLResolveInfo) => boolean {
  return (info) => {
    const seen = new Set<string>();
    const within = (selections: readonly SelectionNode[]): boolean =>
      selections.some((selection) => {
        if (selection.kind === Kind.FIELD) return selection.name.value === field;
        if (selection.kind === Kind.INLINE_FRAGMENT) return within(selection.selectionSet.selections);
        const name = selection.name.value;
        if (seen.has(name)) return false;
        seen.add(name);
        const fragment = info.fragments[name];
        return fragment !== undefined && within(fragment.selectionSet.selections);
      });
    return info.fieldNodes.some((node) => node.selectionSet !== undefined && within(node.selectionSet.selections));
  };
}

/**
 * Allows callers who pass `check` on the organization the source names. When the thing to guard
 * does not exist, operators pass (the resolver answers NOT_FOUND) and others are FORBIDDEN, so
 * that no one learns whether an id exists in an organization they cannot see.
 */
function organizationRule(check: AccessCheck, source: OwnerSource, readsWalk: ReadsWalk = false) {
  const allowed = rule({ cache: 'no_cache' })(async (parent, args, ctx: RequestContext, info: GraphQLResolveInfo) => {
    try {
      const owner = await source(parent, args, ctx);
      if (owner instanceof Error) return owner;
      if (owner === null) return ctx.access.isOperator ? true : forbidden(denials[check]);
      const withWalk = typeof readsWalk === 'function' ? readsWalk(info) : readsWalk;
      return (await ctx.access[check](owner, { withWalk })) ? true : forbidden(denials[check]);
    } catch (error) {
      return error as Error;
    }
  });
  return and(isAuthenticated, allowed);
}

/** For operations and fields that read their organization's effective models. */
const READS_EFFECTIVE_MODELS = true;

/** The most representations one `_entities` request may carry (DESIGN.md section 10). */
export const MAX_ENTITY_REPRESENTATIONS = 1_000;

/** The entity types of the schema (the members of `_Entity`), by schema. */
const entityTypeNames = new WeakMap<GraphQLSchema, Set<string>>();
function entityTypesOf(schema: GraphQLSchema): Set<string> {
  let names = entityTypeNames.get(schema);
  if (!names) {
    const union = schema.getType('_Entity');
    names = new Set(isUnionType(union) ? union.getTypes().map((type) => type.name).sort() : []);
    entityTypeNames.set(schema, names);
  }
  return names;
}

/**
 * `_entities` takes at most MAX_ENTITY_REPRESENTATIONS representations, each an object naming an
 * entity type and a string id. Checked once for the field, after the token and before any
 * reference is resolved, so that a refused request reads nothing; what is wrong is the caller's
 * input error, never an internal one.
 */
const soundRepresentations = rule({ cache: 'no_cache' })((_parent, args: Record<string, unknown>, _ctx, info: GraphQLResolveInfo) => {
  const representations = args.representations as unknown[];
  if (representations.length > MAX_ENTITY_REPRESENTATIONS) {
    return badInput(
      `_entities takes at most ${MAX_ENTITY_REPRESENTATIONS} representations; this request has ${representations.length}`,
      'representations',
    );
  }
  const types = entityTypesOf(info.schema);
  for (const [index, representation] of representations.entries()) {
    const { __typename, id } = (representation ?? {}) as Record<string, unknown>;
    if (typeof representation !== 'object' || representation === null || Array.isArray(representation) || typeof __typename !== 'string' || !types.has(__typename)) {
      return badInput(`representations[${index}] must name one of the entity types ${[...types].join(', ')} in __typename`, 'representations');
    }
    if (typeof id !== 'string') return badInput(`representations[${index}].id must be a string`, 'representations');
  }
  return true;
});

export const permissionRules: IRules = {
  Query: {
    _service: allow,
    // A token and sound representations for the field; then each entity's own fields' rules, below
    // (and entityReferences: unknown ids look like ones the caller may not see).
    _entities: chain(isAuthenticated, soundRepresentations),
    viewer: isAuthenticated,
    modelCatalog: isAuthenticated,
    // Each caller sees only what they may list (the service filters): operators all, others theirs.
    organizations: isAuthenticated,
    organization: organizationRule('canSee', fromArgument('id'), selects('effectiveModels')),
    resolveModel: organizationRule('isMember', fromArgument('organizationId'), READS_EFFECTIVE_MODELS),
    agent: organizationRule('isMember', agentFromArgument('id')),
    run: organizationRule('isMember', organizationOf('run', 'id', (args) => args.id)),
  },
  Mutation: {
    createOrganization: isOperator,
    moveOrganization: isOperator,
    setMembership: isOperator,
    removeMembership: isOperator,
    connectProvider: organizationRule('isAdmin', fromInput('organizationId')),
    disconnectProvider: organizationRule('isAdmin', fromInput('organizationId')),
    updateModelSettings: organizationRule('isAdmin', fromInput('organizationId')),
    clearModelSettings: organizationRule('isAdmin', fromInput('organizationId')),
    createAgent: organizationRule('isMember', fromInput('organizationId'), READS_EFFECTIVE_MODELS),
    setAgentModel: organizationRule('isMember', agentFromInput('agentId'), READS_EFFECTIVE_MODELS),
    runAgent: organizationRule('isMember', agentFromInput('agentId'), READS_EFFECTIVE_MODELS),
    uploadFile: organizationRule('isMember', fromInput('organizationId'), READS_EFFECTIVE_MODELS),
  },
  _Service: allow,
  // Reached only through Query.viewer.
  Viewer: allow,
  // Reached through modelCatalog, guarded fields, and _entities, whose Model reference needs a token.
  Model: allow,
  // Reached only through the guarded fields and operations above.
  Membership: allow,
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
    effectiveModels: organizationRule('isMember', fromParent, READS_EFFECTIVE_MODELS),
    modelSettings: organizationRule('isAdmin', fromParent),
    pinnableModels: organizationRule('isAdmin', fromParent),
    agents: organizationRule('isMember', fromParent),
    usage: organizationRule('isAdmin', fromParent),
  },
  Agent: {
    id: isAuthenticated,
    '*': organizationRule('isMember', ownerOfParent),
  },
  Run: {
    id: isAuthenticated,
    '*': organizationRule('isMember', ownerOfParent),
  },
  // Values reached only through the guarded fields and operations above: their fields add nothing to guard.
  ProviderConnection: allow,
  AuditEventConnection: allow,
  AuditEventEdge: allow,
  AuditEvent: allow,
  PageInfo: allow,
  EffectiveModels: allow,
  ModelOption: allow,
  ModelSettings: allow,
  UpdateModelSettingsPayload: allow,
  SettingsNotice: allow,
  OrganizationConnection: allow,
  OrganizationEdge: allow,
  RunAttempt: allow,
  RunOutput: allow,
  ToolCall: allow,
  ProviderError: allow,
  UsageRow: allow,
  UploadedFile: allow,
};

const shieldOptions = {
  fallbackRule: deny,
  fallbackError: () => forbidden(),
  // Errors thrown by resolvers are theirs to report; formatError masks the unexpected ones.
  allowExternalErrors: true,
};

/** graphql-shield's package exports only IRules; its parts, by shape. */
type ShieldRule = Extract<IRules, { resolve: unknown }>;
type IRuleFieldMap = Record<string, ShieldRule>;

const isShieldRule = (value: unknown): value is ShieldRule => typeof (value as { resolve?: unknown }).resolve === 'function';

/** The rule graphql-shield applies to a field: its own, else its type's wildcard or whole-type rule, else the fallback. */
function ruleOf(typeName: string, fieldName: string): ShieldRule {
  const typeRules = (permissionRules as Record<string, ShieldRule | IRuleFieldMap | undefined>)[typeName];
  if (typeRules === undefined) return shieldOptions.fallbackRule;
  if (isShieldRule(typeRules)) return typeRules;
  return typeRules[fieldName] ?? typeRules['*'] ?? shieldOptions.fallbackRule;
}

/**
 * The permission map as middleware. graphql-shield wraps every field in an async check, `allow`
 * ones too; on a list of a thousand entities that is tens of thousands of promises for nothing.
 * Fields whose rule is `allow` are therefore left as they are: the same answers, without the wrapper.
 */
export const permissions: IMiddlewareGenerator<unknown, RequestContext, unknown> = middleware((schema: GraphQLSchema) => {
  const generated = shield(permissionRules, shieldOptions).generate(schema) as Record<string, IMiddlewareFieldMap>;
  for (const [typeName, fields] of Object.entries(generated)) {
    for (const fieldName of Object.keys(fields)) if (ruleOf(typeName, fieldName) === allow) delete fields[fieldName];
  }
  return generated;
});

/** Entity types whose ids are UUIDs of rows: their references are checked and may be hidden. */
const ROW_ENTITIES = new Set(['Organization', 'Agent', 'Run']);

/**
 * What an unknown id resolves to for a caller who is not an operator: an entity of that id whose
 * every field but `id` its rules refuse, exactly as they refuse those of an entity the caller may
 * not see. An organization's rules find no membership of the caller there; an agent's or a run's
 * find no organization (null), which only operators pass. The id is given back normalized, as a
 * stored one would be.
 */
function standIn(typename: string, id: string): Record<string, unknown> {
  return typename === 'Organization' ? { __typename: typename, id: normalizeId(id) } : { __typename: typename, id: normalizeId(id), organizationId: null };
}

/**
 * Middleware of `Query._entities`, inside the permission map (which has checked the token and the
 * representations): a reference to an Organization, Agent or Run whose id is not a UUID is null
 * with BAD_USER_INPUT and is not resolved; for callers other than operators, a reference to one
 * that does not exist resolves to a stand-in, so that an unknown id and one the caller may not see
 * give the same answer and the same errors (DESIGN.md section 2). Operators get null for an
 * unknown id, as before.
 */
export const entityReferences: IMiddlewareTypeMap<unknown, RequestContext> = {
  Query: {
    _entities: async (resolve, parent, args: { representations: { __typename: string; id: string }[] }, ctx, info) => {
      const { representations } = args;
      const wellFormed = representations.map(({ __typename, id }) => !ROW_ENTITIES.has(__typename) || isUUID(id));
      const forwarded = representations.filter((_, index) => wellFormed[index]);
      const resolved = (await resolve(parent, forwarded.length === representations.length ? args : { ...args, representations: forwarded }, ctx, info)) as unknown[];
      let next = 0;
      return representations.map(({ __typename, id }, index) => {
        if (!wellFormed[index]) return badInput(`representations[${index}].id must be a UUID`, 'representations');
        const entity = resolved[next++];
        if (ctx.access.isOperator || !ROW_ENTITIES.has(__typename)) return entity;
        return Promise.resolve(entity).then((found) => found ?? standIn(__typename, id));
      });
    },
  },
};
