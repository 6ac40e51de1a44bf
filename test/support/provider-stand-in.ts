/**
 * A local stand-in for the Anthropic and OpenAI HTTP APIs, so tests and benchmarks never reach the
 * real providers. One node:http server on a loopback port serves both; point the official SDKs at
 * `anthropicBaseUrl` (no `/v1`: the Anthropic SDK adds it) and `openaiBaseUrl` (with `/v1`).
 *
 * Answers are deterministic: an echo of the last user message, with token counts derived from
 * character counts. Tests script failures, delays, dropped connections and tool calls per provider.
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type StandInProvider = 'ANTHROPIC' | 'OPENAI';

export type StandInBehaviour =
  /** An error answer in the provider's format, with a retry-after header when given. */
  | { status: number; retryAfter?: string; message?: string }
  /** Waits, then answers normally (or as `then`); harmless if the client has gone meanwhile. */
  | { delayMs: number; then?: StandInBehaviour }
  /** Destroys the connection without an answer. */
  | { drop: true }
  /**
   * A normal answer with this text, these tool calls and these token counts (to a message or chat
   * completion; other endpoints answer as usual).
   */
  | {
      reply: {
        text?: string;
        toolCalls?: { name: string; input: Record<string, unknown> }[];
        inputTokens?: number;
        outputTokens?: number;
      };
    };

export interface RecordedRequest {
  provider: StandInProvider;
  method: string;
  /** Without the query string. */
  path: string;
  apiKey: string | undefined;
  /** body.model when the body is JSON. */
  model: string | undefined;
  /** The parsed JSON body, or for multipart uploads { filename, mimeType, sizeBytes }. */
  body: unknown;
  headers: IncomingHttpHeaders;
  /**
   * What the stand-in answered: an HTTP status, or 'dropped'. Decided when the request arrives
   * (so a request is recorded at once); a scripted delay only holds the answer back.
   */
  answered: number | 'dropped';
  /**
   * Set when the client closed the connection before the answer was sent (an SDK call aborted,
   * during a scripted delay); the held-back answer is then never sent.
   */
  aborted: boolean;
}

/** Which calls a standing behaviour applies to: those naming this model, sent with this key, or both. */
export interface StandInMatch {
  model?: string;
  apiKey?: string;
}

export interface ProviderStandIn {
  /** http://127.0.0.1:PORT */
  url: string;
  /** = url */
  anthropicBaseUrl: string;
  /** = url + '/v1' */
  openaiBaseUrl: string;
  requests: RecordedRequest[];
  /** Keys the stand-in accepts (for both providers); every other key gets 401. */
  acceptKeys(...keys: string[]): void;
  /** Forget an accepted key (a revoked key: later calls with it get 401). */
  revokeKeys(...keys: string[]): void;
  /** What the next calls to that provider get, one behaviour per call, in order; then normal answers again. */
  script(provider: StandInProvider, ...behaviours: StandInBehaviour[]): void;
  /**
   * Until reset: every call naming this model (in its JSON body), or sent with this key, or both
   * when both are given, gets `behaviour` (e.g. a 429 with retry-after for one model on one key).
   * A script, when one is pending, comes first.
   */
  always(match: StandInMatch, behaviour: StandInBehaviour): void;
  /** Clears scripts, standing behaviours and recorded requests (accepted keys stay). */
  reset(): void;
  close(): Promise<void>;
}

/**
 * Matches anything shaped like a provider key (sk-… of 20+ key characters), to scan logs for leaks.
 * Not global, so `KEY_PATTERN.test()` keeps no state between calls; for every match use
 * `text.matchAll(new RegExp(KEY_PATTERN, 'g'))`.
 */
export const KEY_PATTERN = /sk-[A-Za-z0-9_-]{20,}/;

/** A fresh key of the right shape for tests: 'sk-ant-api03-test-…' for ANTHROPIC, 'sk-proj-test-…' for OPENAI. */
export function makeTestKey(provider: StandInProvider): string {
  const prefix = provider === 'ANTHROPIC' ? 'sk-ant-api03-test-' : 'sk-proj-test-';
  return prefix + randomBytes(24).toString('base64url');
}

/**
 * The environment that points a test server at the stand-in (for startTestServer); with
 * `platformAnthropicKey`, the platform's Anthropic key too. Spread it to add other settings.
 */
export function standInEnv(
  standIn: Pick<ProviderStandIn, 'anthropicBaseUrl' | 'openaiBaseUrl'>,
  options: { platformAnthropicKey?: string } = {},
): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: standIn.anthropicBaseUrl,
    OPENAI_BASE_URL: standIn.openaiBaseUrl,
    ...(options.platformAnthropicKey === undefined ? {} : { PLATFORM_ANTHROPIC_API_KEY: options.platformAnthropicKey }),
  };
}

const ANTHROPIC_MODELS = [
  { id: 'claude-opus-4-6', display_name: 'Claude Opus 4.6', created_at: '2026-02-05T00:00:00Z' },
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-02-17T00:00:00Z' },
  { id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5', created_at: '2025-10-15T00:00:00Z' },
];
const OPENAI_MODELS = [
  { id: 'gpt-5.4', created: 1772668800 },
  { id: 'gpt-5-mini', created: 1754524800 },
  { id: 'gpt-5-nano', created: 1754524800 },
];

type Reply = Extract<StandInBehaviour, { reply: unknown }>['reply'];

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface UploadedFile {
  filename: string;
  mimeType: string;
  sizeBytes: number;
}

/** The parts of a Messages or Chat Completions request the stand-in reads. */
interface ChatRequest {
  model: string;
  messages: { role?: unknown; content?: unknown }[];
  system?: unknown;
  stream?: unknown;
}

export async function startProviderStandIn(options: { acceptKeys?: string[] } = {}): Promise<ProviderStandIn> {
  const accepted = new Set(options.acceptKeys);
  const scripts: Record<StandInProvider, StandInBehaviour[]> = { ANTHROPIC: [], OPENAI: [] };
  const standing: { match: StandInMatch; behaviour: StandInBehaviour }[] = [];
  const requests: RecordedRequest[] = [];
  // Delayed answers not yet sent, so close() can cancel them.
  const pending = new Set<NodeJS.Timeout>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);

    // The Anthropic SDK always sends anthropic-version; the OpenAI SDK never does.
    const provider: StandInProvider = req.headers['anthropic-version'] ? 'ANTHROPIC' : 'OPENAI';
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    const apiKey = apiKeyOf(req.headers);
    const body = parseBody(raw, req.headers['content-type']);

    // The script comes first, before the key check, so a test can fail even a valid key's call.
    const model = isObject(body) && typeof body.model === 'string' ? body.model : undefined;
    let behaviour =
      scripts[provider].shift() ??
      standing.find(({ match }) => (match.model === undefined || match.model === model) && (match.apiKey === undefined || match.apiKey === apiKey))?.behaviour;
    let delayMs = 0;
    while (behaviour && 'delayMs' in behaviour) {
      delayMs += behaviour.delayMs;
      behaviour = behaviour.then;
    }
    let outcome: Answer | 'drop';
    if (behaviour && 'drop' in behaviour) outcome = 'drop';
    else if (behaviour && 'status' in behaviour) {
      outcome = errorAnswer(provider, behaviour.status, behaviour.message);
      if (behaviour.retryAfter !== undefined) outcome.headers = { 'retry-after': behaviour.retryAfter };
    } else {
      outcome = answer(provider, `${method} ${path}`, apiKey, body, behaviour?.reply);
    }

    const recorded: RecordedRequest = {
      provider,
      method,
      path,
      apiKey,
      model,
      body,
      headers: req.headers,
      answered: outcome === 'drop' ? 'dropped' : outcome.status,
      aborted: false,
    };
    requests.push(recorded);

    if (delayMs === 0) return deliver(provider, res, outcome);
    const timer = setTimeout(() => {
      pending.delete(timer);
      deliver(provider, res, outcome);
    }, delayMs);
    pending.add(timer);
    // The client went away while the answer was held back: it is never sent.
    res.once('close', () => {
      if (!pending.delete(timer)) return;
      clearTimeout(timer);
      recorded.aborted = true;
    });
  }

  function answer(provider: StandInProvider, route: string, apiKey: string | undefined, body: unknown, reply?: Reply): Answer {
    if (apiKey === undefined || !accepted.has(apiKey)) {
      return errorAnswer(provider, 401, apiKey === undefined ? 'No API key provided.' : 'Invalid API key.');
    }
    if (route === 'GET /v1/models') return { status: 200, body: modelList(provider) };
    if (provider === 'ANTHROPIC' && route === 'POST /v1/messages') return anthropicMessage(body, reply);
    if (provider === 'ANTHROPIC' && route === 'POST /v1/files') return anthropicFile(body);
    if (provider === 'OPENAI' && route === 'POST /v1/chat/completions') return openaiChatCompletion(body, reply);
    return errorAnswer(provider, 404, `The stand-in has no ${route}.`);
  }

  const server = http.createServer((req, res) => {
    // Reading the body fails only when the client has gone; there is no one left to answer.
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    anthropicBaseUrl: url,
    openaiBaseUrl: `${url}/v1`,
    requests,
    acceptKeys: (...keys) => keys.forEach((key) => accepted.add(key)),
    revokeKeys: (...keys) => keys.forEach((key) => accepted.delete(key)),
    script: (provider, ...behaviours) => void scripts[provider].push(...behaviours),
    always: (match, behaviour) => void standing.push({ match, behaviour }),
    reset() {
      scripts.ANTHROPIC.length = 0;
      scripts.OPENAI.length = 0;
      standing.length = 0;
      // In place: tests may hold on to `requests`.
      requests.length = 0;
    },
    close() {
      pending.forEach((timer) => clearTimeout(timer));
      pending.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets (the SDKs pool connections) would otherwise hold the server, and jest, open.
        server.closeAllConnections();
      });
    },
  };
}

/** Sends the answer, unless the client gave up (a timeout) while a scripted delay held it back. */
function deliver(provider: StandInProvider, res: ServerResponse, outcome: Answer | 'drop'): void {
  if (res.destroyed) return;
  if (outcome === 'drop') {
    res.destroy();
    return;
  }
  const requestId = `req_${randomBytes(12).toString('hex')}`;
  res.writeHead(outcome.status, {
    'content-type': 'application/json',
    [provider === 'ANTHROPIC' ? 'request-id' : 'x-request-id']: requestId,
    ...outcome.headers,
  });
  res.end(JSON.stringify(outcome.body));
}

/**
 * The key from `x-api-key`, else from `Authorization: Bearer <key>`, for both providers. The
 * OpenAI SDK sends Authorization; the Anthropic SDK 1.14 sends its apiKey as
 * `Authorization: Bearer <key>` too (it never sends x-api-key), while older Anthropic SDKs and
 * plain HTTP clients of the Anthropic API send x-api-key.
 */
function apiKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) return apiKey;
  return /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
}

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  if (contentType?.startsWith('multipart/form-data')) return uploadedFileOf(raw, contentType);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return raw.toString('utf8');
  }
}

/**
 * The first file part of a multipart/form-data body: its filename and content type from the part
 * headers, and the byte length of its content. Enough for the SDKs' uploads, not a full parser.
 */
function uploadedFileOf(raw: Buffer, contentType: string): UploadedFile | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary) return undefined;
  // Every part starts after CRLF--boundary (the first may lack the CRLF) and ends at the next one.
  const delimiter = `\r\n--${boundary[1] ?? boundary[2]}`;
  let partStart = raw.indexOf(delimiter.slice(2));
  while (partStart !== -1) {
    const headersStart = raw.indexOf('\r\n', partStart) + 2;
    const headersEnd = raw.indexOf('\r\n\r\n', headersStart);
    const partEnd = raw.indexOf(delimiter, headersEnd);
    if (headersEnd === -1 || partEnd === -1) return undefined;
    const headers = raw.subarray(headersStart, headersEnd).toString('utf8');
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    if (filename !== undefined) {
      const mimeType = /^content-type:\s*([^\r\n;]+)/im.exec(headers)?.[1]?.trim() ?? 'application/octet-stream';
      return { filename, mimeType, sizeBytes: partEnd - (headersEnd + 4) };
    }
    partStart = partEnd + 2;
  }
  return undefined;
}

function modelList(provider: StandInProvider): unknown {
  if (provider === 'OPENAI') {
    return {
      object: 'list',
      data: OPENAI_MODELS.map((model) => ({ ...model, object: 'model', owned_by: 'openai' })),
    };
  }
  return {
    data: ANTHROPIC_MODELS.map((model) => ({ type: 'model', ...model })),
    has_more: false,
    first_id: ANTHROPIC_MODELS[0].id,
    last_id: ANTHROPIC_MODELS[ANTHROPIC_MODELS.length - 1].id,
  };
}

function anthropicMessage(body: unknown, reply: Reply | undefined): Answer {
  const request = chatRequestOf(body);
  if (typeof request === 'string') return errorAnswer('ANTHROPIC', 400, request);
  const { text, toolCalls, inputTokens, outputTokens } = replyTo(request, reply);
  return {
    status: 200,
    body: {
      id: `msg_${randomId()}`,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: [
        { type: 'text', text },
        ...toolCalls.map(({ name, input }) => ({ type: 'tool_use', id: `toolu_${randomId()}`, name, input })),
      ],
      stop_reason: toolCalls.length > 0 ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    },
  };
}

function openaiChatCompletion(body: unknown, reply: Reply | undefined): Answer {
  const request = chatRequestOf(body);
  if (typeof request === 'string') return errorAnswer('OPENAI', 400, request);
  const { text, toolCalls, inputTokens, outputTokens } = replyTo(request, reply);
  const message: Record<string, unknown> = { role: 'assistant', content: text, refusal: null };
  if (toolCalls.length > 0) {
    message.tool_calls = toolCalls.map(({ name, input }) => ({
      id: `call_${randomId()}`,
      type: 'function',
      function: { name, arguments: JSON.stringify(input) },
    }));
  }
  return {
    status: 200,
    body: {
      id: `chatcmpl-${randomId()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      choices: [{ index: 0, message, finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop', logprobs: null }],
      usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
    },
  };
}

function anthropicFile(body: unknown): Answer {
  if (!isObject(body) || typeof body.filename !== 'string') {
    return errorAnswer('ANTHROPIC', 400, 'file: a multipart/form-data part with a filename is required.');
  }
  const file = body as unknown as UploadedFile;
  return {
    status: 200,
    body: {
      id: `file_${randomId()}`,
      type: 'file',
      filename: file.filename,
      mime_type: file.mimeType,
      size_bytes: file.sizeBytes,
      created_at: new Date().toISOString(),
      downloadable: false,
    },
  };
}

/** The request when it has a model and messages; else why not, as a message for a 400. */
function chatRequestOf(body: unknown): ChatRequest | string {
  if (!isObject(body)) return 'The request body must be a JSON object.';
  if (typeof body.model !== 'string') return 'model: a string is required.';
  if (!Array.isArray(body.messages)) return 'messages: an array is required.';
  // An SDK would wait for server-sent events that never come; fail loudly instead.
  if (body.stream === true) return 'stream: the stand-in does not stream.';
  return body as unknown as ChatRequest;
}

/**
 * The answer to a chat request: the scripted reply where given, else an echo of the last user
 * message. Tokens default to a quarter of the characters (rounded up, at least 1): of the system
 * prompt and message contents for input, of the answer text for output.
 */
function replyTo(request: ChatRequest, reply: Reply | undefined) {
  const lastUser = request.messages.filter((message) => message.role === 'user').at(-1);
  const text = reply?.text ?? `Echo: ${textOf(lastUser?.content)}`;
  const inputChars = textOf(request.system).length + textOf(request.messages.map((message) => message.content)).length;
  return {
    text,
    toolCalls: reply?.toolCalls ?? [],
    inputTokens: reply?.inputTokens ?? tokensFor(inputChars),
    outputTokens: reply?.outputTokens ?? tokensFor(text.length),
  };
}

/** The text of message content: a string, or content blocks/parts with `text` or nested `content`. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map(textOf).join('');
  if (isObject(content)) return typeof content.text === 'string' ? content.text : textOf(content.content);
  return '';
}

function tokensFor(characters: number): number {
  return Math.max(1, Math.ceil(characters / 4));
}

/** An error answer in the provider's own format. */
function errorAnswer(provider: StandInProvider, status: number, message = defaultMessage(status)): Answer {
  if (provider === 'ANTHROPIC') return { status, body: { type: 'error', error: { type: anthropicErrorType(status), message } } };
  return { status, body: { error: { message, ...openaiErrorTypeAndCode(status), param: null } } };
}

function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** As the real OpenAI API answers: a bad key, for instance, is an invalid_request_error with code invalid_api_key. */
function openaiErrorTypeAndCode(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' };
  if (status >= 500) return { type: 'server_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

function defaultMessage(status: number): string {
  return http.STATUS_CODES[status] ?? (status === 529 ? 'Overloaded' : `Status ${status}`);
}

function randomId(): string {
  return randomBytes(12).toString('hex');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
