import { Query, Resolver } from 'type-graphql';
import { type CatalogModel, catalog } from './catalog';
import { Model } from './model.types';

@Resolver(() => Model)
export class CatalogResolver {
  @Query(() => [Model], { description: 'Every model of the catalog.' })
  modelCatalog(): readonly CatalogModel[] {
    return catalog.models;
  }
}

/** Federation: another subgraph's reference to a Model by id. */
export function resolveModelReference(reference: { id: string }): CatalogModel | null {
  return catalog.find(reference.id) ?? null;
}
