/**
 * The pure checks of model settings (DESIGN.md section 3): what an update may name, the version
 * it expects, and what it warns about. No I/O: ModelSettingsService applies them before writing.
 */
import type { SettingsNotice } from './model-settings.types';
import { type Catalog, type CatalogModel, ModelCapability } from '../catalog/catalog';
import { DomainError, ErrorCode, badInput } from '../errors';

/** A model of the catalog by full id; BAD_USER_INPUT naming the valid ids for anything else (an alias too). */
export function catalogModel(catalog: Catalog, id: string, field: string): CatalogModel {
  const model = catalog.find(id);
  if (model) return model;
  const ids = catalog.models.map((entry) => entry.id).join(', ');
  const alias = catalog.aliases().includes(id) ? ` ('${id}' is an alias: settings pin a full model id)` : '';
  throw badInput(`${field} must be a full model id of the catalog${alias}; valid ids: ${ids}`, field);
}

/**
 * BAD_USER_INPUT when the model is retired at `now` (DESIGN.md section 7: a retired model cannot
 * be pinned), naming its successor when the catalog has one.
 */
export function refuseRetired(catalog: Catalog, model: CatalogModel, field: string, now: number): void {
  if (!catalog.isRetired(model, now)) return;
  const successor = catalog.successorOf(model);
  throw new DomainError(
    ErrorCode.BAD_USER_INPUT,
    `${model.id} retired on ${model.retiresAt?.toISOString().slice(0, 10)} and can no longer be pinned${successor ? `; its successor is ${successor.id}` : ''}`,
    { field, model: model.id, successor: successor?.id ?? null },
  );
}

/** An `expectedVersion` as given: null (no check), or zero (no settings yet) or more. */
export function checkedExpectedVersion(expectedVersion: number | null | undefined): number | null {
  if (expectedVersion == null) return null;
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0) throw badInput('expectedVersion must be zero (no settings yet) or more', 'expectedVersion');
  return expectedVersion;
}

/** CONFLICT: the caller expected `expectedVersion`, the settings are at `stored` (0: none). */
export function versionConflict(expectedVersion: number, stored: number): DomainError {
  return new DomainError(
    ErrorCode.CONFLICT,
    stored === 0
      ? `The organization has no model settings (version 0), not version ${expectedVersion}: reload them and try again`
      : `The model settings are at version ${stored}, not ${expectedVersion}: someone changed them meanwhile; reload them and try again`,
    { field: 'expectedVersion', expectedVersion, currentVersion: stored },
  );
}

const { AGENT_TOOLS } = ModelCapability;
const degrades = "agents' tool use degrades to text-only answers on it";

/** The sentence of a MODEL_RETIRING notice, for the `role` model. */
function retiringMessage(catalog: Catalog, role: string, model: CatalogModel): string {
  const successor = catalog.successorOf(model);
  return `The ${role} model ${model.id} retires on ${model.retiresAt?.toISOString().slice(0, 10)}${successor ? `; its successor is ${successor.id}` : ''}.`;
}

/** Which models of the settings retire soon (within RETIRING_NOTICE_DAYS of `now`), by role. */
export interface Retirements {
  catalog: Catalog;
  now: number;
}

const pinned = (primary: CatalogModel, fallback: CatalogModel | null) =>
  [['primary', primary], ['fallback', fallback]] as const;

/** What an update warns about: tool use that will degrade, a fallback that cannot do all the primary does, and models that retire soon. */
export function settingsWarnings(primary: CatalogModel, fallback: CatalogModel | null, { catalog, now }: Retirements): string[] {
  const warnings: string[] = [];
  for (const [role, model] of pinned(primary, fallback)) {
    if (model && catalog.isRetiringSoon(model, now)) warnings.push(retiringMessage(catalog, role, model));
  }
  for (const [role, model] of [['primary', primary], ['fallback', fallback]] as const) {
    if (model && !model.capabilities.includes(AGENT_TOOLS)) {
      warnings.push(`The ${role} model ${model.id} lacks AGENT_TOOLS: ${degrades}.`);
    }
  }
  if (fallback) {
    const missing = primary.capabilities.filter((capability) => !fallback.capabilities.includes(capability));
    if (missing.length > 0) {
      warnings.push(`The fallback model ${fallback.id} lacks ${missing.join(', ')} of the primary model ${primary.id}.`);
    }
  }
  return warnings;
}

/** What a settings notice is about (contract: SettingsNoticeCode). */
export enum SettingsNoticeCode {
  PRIMARY_LACKS_CAPABILITY = 'PRIMARY_LACKS_CAPABILITY',
  FALLBACK_LACKS_CAPABILITY = 'FALLBACK_LACKS_CAPABILITY',
  MODEL_RETIRING = 'MODEL_RETIRING',
}


/**
 * What an update of the settings warns about, each as a notice: a pinned model retiring within
 * 90 days, a primary without AGENT_TOOLS, and each capability of the primary that the fallback lacks.
 */
export function settingsNotices(primary: CatalogModel, fallback: CatalogModel | null, { catalog, now }: Retirements): SettingsNotice[] {
  const notices: SettingsNotice[] = [];
  for (const [role, model] of pinned(primary, fallback)) {
    if (model && catalog.isRetiringSoon(model, now)) {
      notices.push({ code: SettingsNoticeCode.MODEL_RETIRING, message: retiringMessage(catalog, role, model), model, capability: null });
    }
  }
  if (!primary.capabilities.includes(AGENT_TOOLS)) {
    notices.push({
      code: SettingsNoticeCode.PRIMARY_LACKS_CAPABILITY,
      message: `The primary model ${primary.id} lacks AGENT_TOOLS: ${degrades}.`,
      model: primary,
      capability: AGENT_TOOLS,
    });
  }
  for (const capability of fallback ? primary.capabilities.filter((own) => !fallback.capabilities.includes(own)) : []) {
    notices.push({
      code: SettingsNoticeCode.FALLBACK_LACKS_CAPABILITY,
      message: `The fallback model ${fallback!.id} lacks ${capability}, which the primary model ${primary.id} has${capability === AGENT_TOOLS ? `: ${degrades}` : ''}.`,
      model: fallback,
      capability,
    });
  }
  return notices;
}
