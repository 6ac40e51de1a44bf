/**
 * The failover rules of runs (DESIGN.md section 7), pure: which models a run tries in which
 * order, with or without tools, and what a failed try means. The run service carries them out.
 */
import { ModelCapability } from '../catalog/catalog';
import { Billing, type ModelOption, samePin } from '../catalog/model-options';
import type { ProviderFailure } from '../providers/provider-clients';

/** One step of a run: a model to send the request to, or to pass over. */
export type RunStep =
  | { action: 'SEND'; option: ModelOption; withTools: boolean }
  /**
   * Not sent: the model lacks a capability the request needs, and the next step has it
   * (UNSUPPORTED_FEATURE); or the provider no longer serves it (MODEL_RETIRED).
   */
  | { action: 'SKIP'; option: ModelOption; reason: 'UNSUPPORTED_FEATURE' | 'MODEL_RETIRED' };

/** What a run reads of its organization's effective models. */
export interface FailoverModels {
  fallback: ModelOption | null;
  exclusive: boolean;
}

const hasTools = (option: ModelOption) => option.model.capabilities.includes(ModelCapability.AGENT_TOOLS);

/**
 * The steps of a run of a pinned model: the pin, then the organization's effective fallback when
 * there is one that differs from the pin (never a platform model for an exclusive organization).
 * A request with tools passes over a pin without AGENT_TOOLS when the fallback has it; otherwise
 * each model without AGENT_TOOLS gets the request without tools. A retired model is passed over
 * (MODEL_RETIRED), so a retired pin leaves the run to the fallback.
 */
export function planRun(
  pin: ModelOption,
  models: FailoverModels,
  { tools, retired = () => false }: { tools: boolean; retired?: (option: ModelOption) => boolean },
): RunStep[] {
  const { fallback } = models;
  const next = fallback && !samePin(fallback, pin) && !(models.exclusive && fallback.billing === Billing.PLATFORM_CREDITS) ? fallback : null;
  const send = (option: ModelOption): RunStep =>
    retired(option) ? { action: 'SKIP', option, reason: 'MODEL_RETIRED' } : { action: 'SEND', option, withTools: tools && hasTools(option) };
  if (tools && !hasTools(pin) && !retired(pin) && next && hasTools(next) && !retired(next)) {
    return [{ action: 'SKIP', option: pin, reason: 'UNSUPPORTED_FEATURE' }, send(next)];
  }
  return next ? [send(pin), send(next)] : [send(pin)];
}

/** Why an attempt failed, as the timeline names it, and whether the run may go on to its next step. */
export interface FailureClass {
  reason: string;
  retriable: boolean;
}

/** HTTP statuses after which the same request may succeed elsewhere: rate limits, overload and outages. */
const RETRIABLE_STATUSES = new Map<number, string>([
  [408, 'REQUEST_TIMEOUT'],
  [409, 'CONFLICT'],
  [429, 'RATE_LIMITED'],
  [500, 'PROVIDER_ERROR'],
  [502, 'PROVIDER_ERROR'],
  [503, 'PROVIDER_UNAVAILABLE'],
  [504, 'PROVIDER_ERROR'],
  [529, 'OVERLOADED'],
]);

/** Statuses that would fail the same way anywhere, or that concern the key: the run ends at once. */
const FINAL_STATUSES = new Map<number, string>([
  [400, 'INVALID_REQUEST'],
  [401, 'INVALID_API_KEY'],
  [403, 'PERMISSION_DENIED'],
  [404, 'NOT_FOUND'],
  [413, 'REQUEST_TOO_LARGE'],
  [422, 'INVALID_REQUEST'],
]);

export function classifyFailure(failure: ProviderFailure): FailureClass {
  switch (failure.kind) {
    case 'TIMEOUT':
      return { reason: 'TIMEOUT', retriable: true };
    case 'CONNECTION':
      return { reason: 'CONNECTION_FAILED', retriable: true };
    case 'CANCELLED':
    case 'INTERRUPTED':
      // The service aborted the call itself: nobody is left to wait for a fallback's answer.
      return { reason: failure.kind, retriable: false };
    case 'HTTP': {
      const status = failure.httpStatus ?? 0;
      const retriable = RETRIABLE_STATUSES.get(status);
      if (retriable) return { reason: retriable, retriable: true };
      return { reason: FINAL_STATUSES.get(status) ?? (status >= 500 ? 'PROVIDER_ERROR' : 'INVALID_REQUEST'), retriable: false };
    }
    default:
      // An answer that could not be read: trying it elsewhere could bill twice for one bug.
      return { reason: 'UNEXPECTED_RESPONSE', retriable: false };
  }
}
