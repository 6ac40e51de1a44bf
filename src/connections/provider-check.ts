import { Provider, providerName } from '../catalog/catalog';
import { DomainError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import {
  anthropicClient,
  describeProviderFailure,
  openaiClient,
  type ProviderEndpoints,
  type ProviderFailure,
} from '../providers/provider-clients';

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

  async verify(log: Logger, provider: Provider, apiKey: string): Promise<void> {
    const started = performance.now();
    // Our own deadline, so that a timeout is known as one whatever error class the SDK throws
    // for it (openai's can arrive as a plain connection error).
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      if (provider === Provider.ANTHROPIC) {
        await anthropicClient(apiKey, this.endpoints, this.timeoutMs).models.list({ limit: 1 }, { signal: deadline });
      } else {
        await openaiClient(apiKey, this.endpoints, this.timeoutMs).models.list({ signal: deadline });
      }
    } catch (error) {
      const failure: ProviderFailure = deadline.aborted ? { kind: 'TIMEOUT' } : describeProviderFailure(error);
      // Only the classification is logged: an SDK error may quote the provider's answer.
      log.info({ provider, failure, checkMs: Math.round(performance.now() - started) }, 'provider rejected or did not answer a key check');
      const name = providerName(provider);
      if (failure.httpStatus === 401 || failure.httpStatus === 403) {
        throw new DomainError(ErrorCode.INVALID_API_KEY, `${name} rejected the API key`, { provider, httpStatus: failure.httpStatus });
      }
      const why =
        failure.kind === 'TIMEOUT'
          ? `did not answer within ${this.timeoutMs} ms`
          : failure.kind === 'HTTP'
            ? `answered with HTTP ${failure.httpStatus}`
            : 'could not be reached';
      throw new DomainError(ErrorCode.PROVIDER_UNREACHABLE, `${name} ${why}; the key was not checked and nothing was stored`, {
        provider,
        ...(failure.httpStatus ? { httpStatus: failure.httpStatus } : {}),
      });
    }
  }
}
