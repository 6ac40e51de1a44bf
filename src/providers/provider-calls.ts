/**
 * The provider calls the service makes, with the official SDKs: runs (Anthropic's Messages API,
 * OpenAI's Chat Completions), uploads (Anthropic's Files API) and the key check (each SDK's model
 * list, sent through `callProvider` by src/connections/provider-check.ts). Each call is one
 * request (the SDKs' retries are off) under a deadline of the service's own, and answers with what
 * came back or what went wrong, never by throwing, so that the caller records every try. Nothing
 * here keeps or logs the key.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { Provider, providerName } from '../catalog/catalog';
import {
  anthropicClient,
  type CallStop,
  describeProviderFailure,
  isCallStop,
  openaiClient,
  type ProviderEndpoints,
  type ProviderFailure,
  sdks,
} from './provider-clients';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatTool {
  name: string;
  description?: string | null;
  /** A JSON Schema of type object. */
  inputSchema: Record<string, unknown>;
}

export interface ChatRequest {
  model: string;
  system?: string | null;
  messages: ChatMessage[];
  /** Empty: the request goes without tools. */
  tools: ChatTool[];
  maxTokens: number;
}

export interface ToolCall {
  name: string;
  /** The tool's input: a JSON object. */
  input: Record<string, unknown>;
}

export interface ChatAnswer {
  text: string;
  toolCalls: ToolCall[];
  inputTokens: number | null;
  outputTokens: number | null;
}

/** A failed call, as the monitor timeline shows it: never the key, the provider's message kept short. */
export interface CallFailure extends ProviderFailure {
  provider: Provider;
  /** The provider's error type (e.g. rate_limit_error), or timeout, connection_error, unexpected_error. */
  type: string;
  message: string;
}

export type CallResult<T> = { ok: true; value: T } | { ok: false; failure: CallFailure };

/** Longest provider message kept. */
const MESSAGE_MAX_LENGTH = 300;

/** Anything shaped like a key, even partly masked (OpenAI quotes 'sk-proj-****abcd'). */
const KEY_LIKE = /sk-[A-Za-z0-9_*.…-]{4,}/g;

/** A provider's message made safe to store and show: no key, one line, short. */
export function sanitizeProviderMessage(message: string): string {
  const clean = message.replace(KEY_LIKE, '[redacted]').replace(/\s+/g, ' ').trim();
  return clean.length > MESSAGE_MAX_LENGTH ? `${clean.slice(0, MESSAGE_MAX_LENGTH - 1)}…` : clean;
}

/** What went wrong with a call, in the provider's words where it gave some. */
function describeCallFailure(provider: Provider, error: unknown, timedOut: boolean, timeoutMs: number): CallFailure {
  const name = providerName(provider);
  const failure: ProviderFailure = timedOut ? { kind: 'TIMEOUT' } : describeProviderFailure(error);
  if (failure.kind === 'TIMEOUT') return { ...failure, provider, type: 'timeout', message: `${name} did not answer within ${timeoutMs} ms` };
  if (failure.kind === 'CONNECTION') return { ...failure, provider, type: 'connection_error', message: `${name} could not be reached` };
  if (failure.kind === 'HTTP') {
    let type: unknown;
    let message: unknown;
    const { Anthropic, OpenAI } = sdks();
    if (error instanceof Anthropic.APIError) ({ type, apiMessage: message } = error);
    else if (error instanceof OpenAI.APIError) {
      type = error.type ?? error.code;
      message = (error.error as { message?: unknown } | undefined)?.message;
    }
    return {
      ...failure,
      provider,
      type: typeof type === 'string' && type ? type : 'http_error',
      message: sanitizeProviderMessage(typeof message === 'string' && message ? message : `${name} answered with HTTP ${failure.httpStatus}`),
    };
  }
  return { ...failure, provider, type: 'unexpected_error', message: `${name} gave an answer the service could not read` };
}

const STOPPED_BECAUSE: Record<CallStop, string> = {
  CANCELLED: 'the caller went away',
  INTERRUPTED: 'the service is stopping',
};

/**
 * Runs one SDK call under the service's own deadline, so that a timeout is known as one whatever
 * error class the SDK throws for it (openai's can arrive as a plain connection error). `stop`,
 * aborted with a `CallStop` as its reason, aborts the call too: the SDK closes the connection, and
 * the failure is CANCELLED or INTERRUPTED (whichever of the deadline and the stop came first wins).
 * An answer that arrived first is still an answer.
 */
export async function callProvider<T>(
  provider: Provider,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  stop?: AbortSignal,
): Promise<CallResult<T>> {
  // The process's first call loads the SDKs: that is not the provider's time.
  sdks();
  // One controller for the deadline and the caller's stop, both let go of when the call ends:
  // AbortSignal.timeout and AbortSignal.any would be kept by the process, with whatever their
  // listeners hold, until the deadline passed, long after the answer.
  const call = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = !call.signal.aborted;
    call.abort(new DOMException(`the call took longer than ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  timer.unref();
  const onStop = () => call.abort(stop?.reason);
  if (stop?.aborted) onStop();
  else stop?.addEventListener('abort', onStop, { once: true });
  try {
    return { ok: true, value: await work(call.signal) };
  } catch (error) {
    const why: unknown = stop?.reason;
    if (call.signal.aborted && !timedOut && isCallStop(why)) return { ok: false, failure: stoppedCall(provider, why) };
    return { ok: false, failure: describeCallFailure(provider, error, timedOut, timeoutMs) };
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
}

/** A call the service aborted, or did not send, because its caller went away or the service is stopping. */
export function stoppedCall(provider: Provider, why: CallStop, { sent = true } = {}): CallFailure {
  const name = providerName(provider);
  const message = sent ? `The call to ${name} was aborted: ${STOPPED_BECAUSE[why]}` : `Not sent: ${STOPPED_BECAUSE[why]}`;
  return { kind: why, provider, type: why.toLowerCase(), message };
}

/** One chat request to one provider with one key; `stop` aborts it (see `callProvider`). */
export function sendChat(
  provider: Provider,
  apiKey: string,
  endpoints: ProviderEndpoints,
  timeoutMs: number,
  request: ChatRequest,
  stop?: AbortSignal,
): Promise<CallResult<ChatAnswer>> {
  if (provider === Provider.ANTHROPIC) {
    return callProvider(provider, timeoutMs, async (signal) => {
      const message = await anthropicClient(apiKey, endpoints, timeoutMs).messages.create(
        {
          model: request.model,
          max_tokens: request.maxTokens,
          ...(request.system ? { system: request.system } : {}),
          messages: request.messages.map(({ role, content }) => ({ role, content })),
          ...(request.tools.length > 0
            ? {
                tools: request.tools.map((tool) => ({
                  name: tool.name,
                  ...(tool.description ? { description: tool.description } : {}),
                  input_schema: tool.inputSchema as Anthropic.Tool.InputSchema,
                })),
              }
            : {}),
        },
        { signal },
      );
      return {
        text: message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join(''),
        toolCalls: message.content.flatMap((block) => (block.type === 'tool_use' ? [{ name: block.name, input: block.input as Record<string, unknown> }] : [])),
        inputTokens: message.usage?.input_tokens ?? null,
        outputTokens: message.usage?.output_tokens ?? null,
      };
    }, stop);
  }
  return callProvider(provider, timeoutMs, async (signal) => {
    const completion = await openaiClient(apiKey, endpoints, timeoutMs).chat.completions.create(
      {
        model: request.model,
        max_completion_tokens: request.maxTokens,
        messages: [
          ...(request.system ? [{ role: 'system' as const, content: request.system }] : []),
          ...request.messages.map(({ role, content }) => ({ role, content })),
        ],
        ...(request.tools.length > 0
          ? {
              tools: request.tools.map((tool) => ({
                type: 'function' as const,
                function: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.inputSchema },
              })),
            }
          : {}),
      },
      { signal },
    );
    const message = completion.choices[0]?.message;
    return {
      text: message?.content ?? '',
      toolCalls: (message?.tool_calls ?? []).flatMap((toolCall) =>
        toolCall.type === 'function' ? [{ name: toolCall.function.name, input: parseArguments(toolCall.function.arguments) }] : [],
      ),
      inputTokens: completion.usage?.prompt_tokens ?? null,
      outputTokens: completion.usage?.completion_tokens ?? null,
    };
  }, stop);
}

/** OpenAI sends tool arguments as a JSON string; one that is not a JSON object is kept as it came. */
function parseArguments(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // kept as text below
  }
  return { arguments: text };
}

/** Uploads a file to Anthropic's Files API with one key; answers the provider's file id. */
export function uploadAnthropicFile(
  apiKey: string,
  endpoints: ProviderEndpoints,
  timeoutMs: number,
  file: { filename: string; mimeType: string; content: Buffer },
): Promise<CallResult<{ id: string }>> {
  return callProvider(Provider.ANTHROPIC, timeoutMs, async (signal) => {
    const uploaded = await anthropicClient(apiKey, endpoints, timeoutMs).files.upload(
      { file: await (require('@anthropic-ai/sdk') as typeof import('@anthropic-ai/sdk')).toFile(file.content, file.filename, { type: file.mimeType }) },
      { signal },
    );
    return { id: uploaded.id };
  });
}
