import { FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../context';
import { unauthenticated } from '../errors';
import type { Catalog, CatalogModel } from './catalog';
import { Model } from './model.types';

@Resolver(() => Model)
export class CatalogResolver {
  constructor(private readonly catalog: Catalog) {}

  @Query(() => [Model], { description: 'Every model of the catalog.' })
  modelCatalog(): readonly CatalogModel[] {
    return this.catalog.models;
  }

  @FieldResolver(() => Model, { nullable: true, description: 'The model the provider names as its replacement.' })
  successor(@Root() model: CatalogModel): CatalogModel | null {
    return this.catalog.successorOf(model);
  }
}

/**
 * Federation: another subgraph's reference to a Model by id. `_entities` answers without a token
 * (gateways call it), so the token is checked here, as `modelCatalog`'s rule checks it: Model's
 * own fields carry no rule. Asynchronous, so that a refusal fails this entity alone, not the list.
 */
export function resolveModelReference(catalog: Catalog) {
  return async (reference: { id: string }, ctx: RequestContext): Promise<CatalogModel | null> => {
    if (!ctx.principal) throw unauthenticated(ctx.authFailure);
    return catalog.find(reference.id) ?? null;
  };
}
