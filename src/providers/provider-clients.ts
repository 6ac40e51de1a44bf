import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';

/**
 * The SDKs, loaded on the first call: together they take longer to load than the rest of
 * start-up, and the Anthropic SDK loads OpenTelemetry's API with it.
 */
let loaded: { Anthropic: typeof Anthropic; OpenAI: typeof OpenAI } | undefined;
export function sdks(): { Anthropic: typeof Anthropic; OpenAI: typeof OpenAI } {
  loaded ??= {
    Anthropic: (require('@anthropic-ai/sdk') as typeof import('@anthropic-ai/sdk')).default,
    OpenAI: (require('openai') as typeof import('openai')).default,
  };
  return loaded;
}

/** Where the providers answer, each in its SDK's own convention (OpenAI's with `/v1`). */
export interface ProviderEndpoints {
  anthropicBaseUrl: string | undefined;
  openaiBaseUrl: string | undefined;
}

export const ANTHROPIC_PUBLIC_URL = 'https://api.anthropic.com';
export const OPENAI_PUBLIC_URL = 'https://api.openai.com/v1';

/**
 * An Anthropic client for one key and one call. Everything the SDK would otherwise read from the
 * environment or disk (base URL, auth token, profiles) is given explicitly, its own retries are
 * off (the service alone decides what to try next) and it logs nothing. Its own spans are off:
 * the service's attempt spans say what a trace may say (src/telemetry), and no trace context
 * goes to the provider.
 */
export function anthropicClient(apiKey: string, endpoints: ProviderEndpoints, timeoutMs: number): Anthropic {
  const { Anthropic } = sdks();
  return new Anthropic({
    apiKey,
    authToken: null,
    baseURL: endpoints.anthropicBaseUrl ?? ANTHROPIC_PUBLIC_URL,
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off',
    openTelemetry: { traces: false, propagation: false },
  });
}

/** An OpenAI client for one key and one call; as `anthropicClient`. */
export function openaiClient(apiKey: string, endpoints: ProviderEndpoints, timeoutMs: number): OpenAI {
  const { OpenAI } = sdks();
  return new OpenAI({
    apiKey,
    organization: null,
    project: null,
    baseURL: endpoints.openaiBaseUrl ?? OPENAI_PUBLIC_URL,
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off',
  });
}

/** Why the service itself aborts a call before its answer: the caller went away, or the service is stopping. */
export type CallStop = 'CANCELLED' | 'INTERRUPTED';

export const isCallStop = (value: unknown): value is CallStop => value === 'CANCELLED' || value === 'INTERRUPTED';

/** What went wrong with a provider call, in the terms the service acts on; never the key. */
export interface ProviderFailure {
  /** CANCELLED, INTERRUPTED: the service aborted the call itself (`CallStop`), its caller gone or the service stopping. */
  kind: 'HTTP' | 'TIMEOUT' | 'CONNECTION' | 'UNKNOWN' | CallStop;
  /** The provider's HTTP status, for kind HTTP. */
  httpStatus?: number;
  /** How long the provider asked to be left alone (its retry-after), for kind HTTP. */
  retryAfterMs?: number;
}

/**
 * How long a provider asks to be left alone: `retry-after-ms` (milliseconds, which both SDKs
 * read), else `retry-after` in seconds or as an HTTP date; undefined when it says nothing usable.
 */
export function retryAfterMs(header: (name: string) => string | null | undefined, now: number): number | undefined {
  const milliseconds = header('retry-after-ms')?.trim();
  if (milliseconds && /^\d+(\.\d+)?$/.test(milliseconds)) return Math.round(Number(milliseconds));
  const value = header('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // An HTTP date names its weekday and month; Date.parse would read '-5' as a year.
  const date = /^[A-Za-z]{3}, /.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Whether a failure says the key itself was refused (HTTP 401 or 403): the connection it came from is then INVALID. */
export function rejectsKey(failure: ProviderFailure): boolean {
  return failure.kind === 'HTTP' && (failure.httpStatus === 401 || failure.httpStatus === 403);
}

/** Classifies an error thrown by either SDK. */
export function describeProviderFailure(error: unknown): ProviderFailure {
  const { Anthropic, OpenAI } = sdks();
  if (error instanceof Anthropic.APIConnectionTimeoutError || error instanceof OpenAI.APIConnectionTimeoutError) {
    return { kind: 'TIMEOUT' };
  }
  if (error instanceof Anthropic.APIConnectionError || error instanceof OpenAI.APIConnectionError) {
    return { kind: 'CONNECTION' };
  }
  if ((error instanceof Anthropic.APIError || error instanceof OpenAI.APIError) && typeof error.status === 'number') {
    const headers = error.headers as Headers | undefined;
    const wait = headers ? retryAfterMs((name) => headers.get(name), Date.now()) : undefined;
    return { kind: 'HTTP', httpStatus: error.status, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
  return { kind: 'UNKNOWN' };
}
