import { isUUID } from 'class-validator';
import { type GraphQLResolveInfo, type GraphQLSchema, isUnionType, Kind, type SelectionNode } from 'graphql';
import { and, rule } from 'graphql-shield';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, badInput, unauthenticated } from '../errors';

/**
 * The building blocks of the permission map (src/auth/permission-map.ts): where a rule finds the
 * organization it guards, and the checks it makes there (DESIGN.md section 2).
 *
 * Rules that read the parent or the arguments are never cached by rule name (`no_cache`); they
 * stay cheap because every check goes through the request's DataLoaders. A rule that fails (the
 * database is down) returns its error: graphql-shield would turn a thrown one into a silent
 * FORBIDDEN, and the caller would be told "no" when the truth is "broken".
 */

export const forbidden = (message = 'You are not allowed to do this') => new DomainError(ErrorCode.FORBIDDEN, message);

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
export function organizationOf(what: 'agent' | 'run', field: string, read: (args: Record<string, unknown>) => unknown): OwnerSource {
  return async (_parent, args, ctx) => {
    const id = read(args);
    if (typeof id !== 'string' || !isUUID(id)) return badInput(`${field} must be ${what === 'agent' ? 'an agent' : 'a run'} id (a UUID)`, field);
    const loader = what === 'agent' ? ctx.loaders.agents.byId : ctx.loaders.runs.byId;
    return (await loader.load(id))?.organizationId ?? null;
  };
}

/** Organization fields: the organization itself. */
export const fromParent = organizationId('id', (parent) => (parent as { id?: unknown }).id);
/** Fields of things an organization owns (agents, runs): their organization. */
export const ownerOfParent: OwnerSource = (parent) => (parent as { organizationId: string }).organizationId;
export const fromArgument = (name: string) => organizationId(name, (_parent, args) => args[name]);
export const fromInput = (name: string) => organizationId(`input.${name}`, (_parent, args) => inputOf(args)[name]);
export const agentFromArgument = (name: string) => organizationOf('agent', name, (args) => args[name]);
export const agentFromInput = (name: string) => organizationOf('agent', `input.${name}`, (args) => inputOf(args)[name]);

export const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, ctx: RequestContext) =>
  ctx.principal ? true : unauthenticated(ctx.authFailure),
);

const isOperatorRule = rule({ cache: 'contextual' })((_parent, _args, ctx: RequestContext) =>
  ctx.access.isOperator ? true : forbidden('Only platform operators may do this'),
);
export const isOperator = and(isAuthenticated, isOperatorRule);

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
export function selects(field: string): (info: GraphQLResolveInfo) => boolean {
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
export function organizationRule(check: AccessCheck, source: OwnerSource, readsWalk: ReadsWalk = false) {
  // The token first, then the check, in one rule: as and(isAuthenticated, …) answered (its first
  // refusal), without graphql-shield's and() running both through a dozen promises for every
  // guarded field, nor reading anything for a caller without a token.
  return rule({ cache: 'no_cache' })(async (parent, args, ctx: RequestContext, info: GraphQLResolveInfo) => {
    if (!ctx.principal) return unauthenticated(ctx.authFailure);
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
}

/** For operations and fields that read their organization's effective models. */
export const READS_EFFECTIVE_MODELS = true;

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
export const soundRepresentations = rule({ cache: 'no_cache' })((_parent, args: Record<string, unknown>, _ctx, info: GraphQLResolveInfo) => {
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
