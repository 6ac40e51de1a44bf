/**
 * The inheritance rule (DESIGN.md section 3): which models an organization uses, computed on read
 * from already-loaded data, never stored. Pure: no I/O, so it is tested without a database.
 */
import { type Catalog, type CatalogModel, PLATFORM_DEFAULT, type Provider } from '../catalog/catalog';
import { Billing, type ModelOption } from '../catalog/model-options';
import type { EffectiveModels } from './model-settings.types';

export enum ModelSource {
  OWN = 'OWN',
  INHERITED = 'INHERITED',
  PLATFORM = 'PLATFORM',
}

/** An organization's own BYOM settings, as stored. */
export interface OwnSettings {
  primaryModelId: string;
  fallbackModelId: string | null;
  exclusive: boolean;
  offerToSubOrganizations: boolean;
}

/** Everything the rule reads about one organization. */
export interface InheritanceFacts {
  organizationId: string;
  /** Its own settings; null when it has none. */
  settings: OwnSettings | null;
  /** The providers it has connected itself. */
  connectedProviders: readonly Provider[];
  /**
   * Its ancestors that have settings, nearest first (ancestors without settings may be listed
   * too, with null; they never matter).
   */
  ancestors: readonly { organizationId: string; settings: OwnSettings | null }[];
}

/** What the rule computes: the schema's EffectiveModels type. */
export type { EffectiveModels };

export function computeEffectiveModels(facts: InheritanceFacts, catalog: Catalog): EffectiveModels {
  const byom = (id: string, ownerId: string): ModelOption => ({ model: catalog.get(id), billing: Billing.PROVIDER_ACCOUNT, connectionOwnerId: ownerId });
  const platform = (entry: CatalogModel): ModelOption => ({ model: entry, billing: Billing.PLATFORM_CREDITS, connectionOwnerId: null });
  /** BYOM options, then (unless exclusive) the platform's models not already listed. */
  const withPlatform = (own: ModelOption[], exclusive: boolean): ModelOption[] => {
    if (exclusive) return own;
    const listed = new Set(own.map((option) => option.model.id));
    return [...own, ...catalog.models.filter((entry) => !listed.has(entry.id)).map(platform)];
  };

  if (facts.settings) {
    const { settings, organizationId } = facts;
    const connected = new Set(facts.connectedProviders);
    const own = catalog.models.filter((entry) => connected.has(entry.provider)).map((entry) => byom(entry.id, organizationId));
    return {
      organizationId,
      primary: byom(settings.primaryModelId, organizationId),
      fallback: settings.fallbackModelId ? byom(settings.fallbackModelId, organizationId) : null,
      source: ModelSource.OWN,
      inheritedFromId: null,
      exclusive: settings.exclusive,
      availableModels: withPlatform(own, settings.exclusive),
    };
  }

  // All or nothing: the nearest ancestor that offers gives its primary, fallback and exclusive flag together.
  const giver = facts.ancestors.find((ancestor) => ancestor.settings?.offerToSubOrganizations);
  if (giver?.settings) {
    const { settings, organizationId: giverId } = giver;
    const primary = byom(settings.primaryModelId, giverId);
    const fallback = settings.fallbackModelId ? byom(settings.fallbackModelId, giverId) : null;
    return {
      organizationId: facts.organizationId,
      primary,
      fallback,
      source: ModelSource.INHERITED,
      inheritedFromId: giverId,
      exclusive: settings.exclusive,
      availableModels: withPlatform(fallback ? [primary, fallback] : [primary], settings.exclusive),
    };
  }

  return {
    organizationId: facts.organizationId,
    primary: platform(catalog.get(PLATFORM_DEFAULT.primaryModelId)),
    fallback: platform(catalog.get(PLATFORM_DEFAULT.fallbackModelId)),
    source: ModelSource.PLATFORM,
    inheritedFromId: null,
    exclusive: false,
    availableModels: withPlatform([], false),
  };
}
