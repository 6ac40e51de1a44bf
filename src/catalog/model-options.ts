/**
 * A model as one organization can use it, and alias resolution over such options (DESIGN.md
 * section 4). Pure: no I/O.
 */
import { DomainError, ErrorCode, badInput } from '../errors';
import type { Catalog } from './catalog';

export enum Billing {
  /** The organization's own provider account pays (BYOM). */
  PROVIDER_ACCOUNT = 'PROVIDER_ACCOUNT',
  /** The platform's account pays; credits are consumed. */
  PLATFORM_CREDITS = 'PLATFORM_CREDITS',
}

import type { ModelOption } from './model.types';

export type { ModelOption };

/** What alias resolution reads of an organization's effective models. */
export interface ResolvableModels {
  primary: ModelOption;
  fallback: ModelOption | null;
  /** Unique by model id, BYOM before platform. */
  availableModels: readonly ModelOption[];
}

/** Whether two options are the same pin: the same model, paid the same way. */
export function samePin(a: Pick<ModelOption, 'model' | 'billing'>, b: Pick<ModelOption, 'model' | 'billing'>): boolean {
  return a.model.id === b.model.id && a.billing === b.billing;
}

/** The option of `models` that a stored pin (model id and billing) stands for; undefined when it is not among them. */
export function findPin(models: readonly ModelOption[], pin: { modelId: string; billing: Billing }): ModelOption | undefined {
  return models.find((option) => option.model.id === pin.modelId && option.billing === pin.billing);
}

/**
 * Resolves what an agent or a workflow node asks for, for one organization:
 * - a full model id: that model, when the organization may use it;
 * - an alias: the effective primary when it has that alias, else the fallback, else the newest
 *   generation with that alias among the available models, BYOM options before platform ones
 *   (an organization's own account is never passed over for a platform model);
 * - anything else: BAD_USER_INPUT naming the aliases.
 * A known model or alias the organization cannot use is MODEL_NOT_AVAILABLE.
 */
export function resolveModel(catalog: Catalog, models: ResolvableModels, requested: string, field = 'model'): ModelOption {
  const available = (option: ModelOption | null) => option !== null && models.availableModels.some((candidate) => samePin(candidate, option));
  const notAvailable = (what: string) =>
    new DomainError(ErrorCode.MODEL_NOT_AVAILABLE, `${what} is not available to this organization`, {
      field,
      model: requested,
      availableModels: models.availableModels.map((option) => option.model.id),
    });

  if (catalog.find(requested)) {
    const option = models.availableModels.find((candidate) => candidate.model.id === requested);
    if (!option) throw notAvailable(`The model ${requested}`);
    return option;
  }

  const withAlias = catalog.withAlias(requested);
  if (withAlias.length > 0) {
    if (models.primary.model.alias === requested && available(models.primary)) return models.primary;
    if (models.fallback?.model.alias === requested && available(models.fallback)) return models.fallback;
    // Newest generation first, the organization's own account before the platform's.
    const options = withAlias.flatMap((model) => models.availableModels.filter((option) => option.model.id === model.id));
    const chosen = options.find((option) => option.billing === Billing.PROVIDER_ACCOUNT) ?? options[0];
    if (!chosen) throw notAvailable(`No model with the alias '${requested}'`);
    return chosen;
  }

  throw badInput(
    `'${requested.slice(0, 100)}' is neither a model id nor an alias; known aliases: ${catalog.aliases().join(', ')}`,
    field,
  );
}
