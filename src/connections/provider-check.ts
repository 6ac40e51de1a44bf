import { Provider, providerName } from '../catalog/catalog';
import { DomainError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { callProvider } from '../providers/provider-calls';
import { anthropicClient, openaiClient, type ProviderEndpoints, rejectsKey } from '../providers/provider-clients';
import { recordKeyCheck } from '../telemetry/telemetry';

/**
 * Asks the provider whether it accepts a key, by listing models with it (DESIGN.md section 5):
 * 401/403 is INVALID_API_KEY; a timeout, a refused connection or any other status is
 * PROVIDER_UNREACHABLE. The SDKs' retries are off, so one check is one request.
 */
export class ProviderKeyChecker {
  constructor(
    private readonly endpoints: ProviderEndpoints,
    private readonly timeoutMs: number,
  ) {}

  /** Checks a key; `timeoutMs` replaces the configured timeout (a scheduled check's own). */
  async verify(log: Logger, provider: Provider, apiKey: string, timeoutMs = this.timeoutMs): Promise<void> {
    const startedAt = new Date();
    const started = performance.now();
    const result = await callProvider(provider, timeoutMs, async (signal) => {
      if (provider === Provider.ANTHROPIC) await anthropicClient(apiKey, this.endpoints, timeoutMs).models.list({ limit: 1 }, { signal });
      else await openaiClient(apiKey, this.endpoints, timeoutMs).models.list({ signal });
    });
    const outcome = result.ok ? 'ACCEPTED' : rejectsKey(result.failure) ? 'REJECTED' : 'UNREACHABLE';
    recordKeyCheck({ provider, outcome, httpStatus: result.ok ? 200 : (result.failure.httpStatus ?? null), startedAt, latencyMs: Math.round(performance.now() - started) });
    if (result.ok) return;
    const { kind, httpStatus } = result.failure;
    // Only the classification is logged: the provider's answer may quote the key.
    log.info({ provider, failure: { kind, httpStatus }, checkMs: Math.round(performance.now() - started) }, 'provider rejected or did not answer a key check');
    const name = providerName(provider);
    if (rejectsKey(result.failure)) {
      throw new DomainError(ErrorCode.INVALID_API_KEY, `${name} rejected the API key`, { provider, httpStatus });
    }
    // The call's own words, except for an HTTP answer: the key check names the status, not the provider's message.
    const why = kind === 'HTTP' ? `${name} answered with HTTP ${httpStatus}` : result.failure.message;
    throw new DomainError(ErrorCode.PROVIDER_UNREACHABLE, `${why}; the key was not checked and nothing was stored`, {
      provider,
      ...(httpStatus ? { httpStatus } : {}),
    });
  }
}
