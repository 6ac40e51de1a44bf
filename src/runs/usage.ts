/**
 * Usage (DESIGN.md section 7): the period a request may ask for, and what platform credits a sum
 * of calls costs at the catalog's rates. Pure: the sums come from the runs repository.
 */
import type { Catalog } from '../catalog/catalog';
import { Billing } from '../catalog/model-options';
import { badInput } from '../errors';
import type { UsageSum } from './run.repository';
import type { UsageRow } from './run.types';

/** The longest usage period one request may ask for. */
const USAGE_MAX_DAYS = 366;

/** BAD_USER_INPUT unless [from, to) is a period of at most USAGE_MAX_DAYS. */
export function checkUsagePeriod(from: Date, to: Date): void {
  if (!(from.getTime() < to.getTime())) throw badInput('from must be before to', 'from');
  if (to.getTime() - from.getTime() > USAGE_MAX_DAYS * 86_400_000) throw badInput(`The period may span at most ${USAGE_MAX_DAYS} days`, 'to');
}

/** The sums with their models and the platform credits they consumed (none for the organization's own accounts). */
export function priced(catalog: Catalog, sums: readonly UsageSum[]): UsageRow[] {
  return sums.map(({ modelId, ...sum }) => {
    const model = catalog.get(modelId);
    const rates = model.platformCreditsPerMillionTokens;
    const platformCredits = sum.billing === Billing.PLATFORM_CREDITS ? (sum.inputTokens * rates.input + sum.outputTokens * rates.output) / 1_000_000 : 0;
    return { ...sum, model, platformCredits };
  });
}
