/**
 * The permission map (src/auth/permission-map.ts) as middleware of the schema, and what
 * `_entities` answers for ids a caller may not see.
 */
import { isUUID } from 'class-validator';
import type { GraphQLSchema } from 'graphql';
import { middleware, type IMiddlewareFieldMap, type IMiddlewareGenerator, type IMiddlewareTypeMap } from 'graphql-middleware';
import { allow, deny, type IRules, shield } from 'graphql-shield';
import type { RequestContext } from '../context';
import { normalizeId } from '../database/keys';
import { badInput } from '../errors';
import { permissionRules } from './permission-map';
import { forbidden } from './rules';

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
