import { setTimeout as sleep } from 'node:timers/promises';
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  KEY_PATTERN,
  makeTestKey,
  type ProviderStandIn,
  type StandInProvider,
  startProviderStandIn,
} from '../support/provider-stand-in';

const ANTHROPIC_KEY = makeTestKey('ANTHROPIC');
const OPENAI_KEY = makeTestKey('OPENAI');

let standIn: ProviderStandIn;

beforeAll(async () => {
  standIn = await startProviderStandIn({ acceptKeys: [ANTHROPIC_KEY, OPENAI_KEY] });
});
afterEach(() => standIn.reset());
afterAll(() => standIn.close());

/** Clients that fail at once: no retries, short timeouts. */
function anthropic(options: { apiKey?: string; timeout?: number } = {}): Anthropic {
  return new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: standIn.anthropicBaseUrl, maxRetries: 0, timeout: 5_000, ...options });
}
function openai(options: { apiKey?: string; timeout?: number } = {}): OpenAI {
  return new OpenAI({ apiKey: OPENAI_KEY, baseURL: standIn.openaiBaseUrl, maxRetries: 0, timeout: 5_000, ...options });
}

/** One call per provider that goes through the SDK and the stand-in's model list. */
const listModels: Record<StandInProvider, (options?: { apiKey?: string; timeout?: number }) => Promise<string[]>> = {
  ANTHROPIC: async (options) => (await anthropic(options).models.list()).data.map((model) => model.id),
  OPENAI: async (options) => (await openai(options).models.list()).data.map((model) => model.id),
};

/** The error `promise` rejects with; fails the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

describe('the provider stand-in', () => {
  describe('model lists', () => {
    it('lists the Anthropic models to an accepted key, and records the key and provider', async () => {
      const page = await anthropic().models.list();

      expect(page.data.map((model) => model.id)).toEqual(['claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5']);
      expect(page.data[0]).toMatchObject({ type: 'model', display_name: 'Claude Opus 4.6', created_at: expect.any(String) });
      expect(page.has_more).toBe(false);
      expect(standIn.requests).toEqual([
        expect.objectContaining({ provider: 'ANTHROPIC', method: 'GET', path: '/v1/models', apiKey: ANTHROPIC_KEY, answered: 200 }),
      ]);
    });

    it('lists the OpenAI models to an accepted key, and records the key and provider', async () => {
      const page = await openai().models.list();

      expect(page.data.map((model) => model.id)).toEqual(['gpt-5.4', 'gpt-5-mini', 'gpt-5-nano']);
      expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'openai', created: expect.any(Number) });
      expect(standIn.requests).toEqual([
        expect.objectContaining({ provider: 'OPENAI', method: 'GET', path: '/v1/models', apiKey: OPENAI_KEY, answered: 200 }),
      ]);
    });

    it('iterates the Anthropic page to its end in one request', async () => {
      const ids: string[] = [];
      for await (const model of anthropic().models.list()) ids.push(model.id);

      expect(ids).toHaveLength(3);
      expect(standIn.requests).toHaveLength(1);
    });
  });

  describe('API keys', () => {
    it('answers an unknown key with the SDKs’ AuthenticationError (401)', async () => {
      const anthropicError = await rejectionOf(listModels.ANTHROPIC({ apiKey: makeTestKey('ANTHROPIC') }));
      const openaiError = await rejectionOf(listModels.OPENAI({ apiKey: makeTestKey('OPENAI') }));

      expect(anthropicError).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(anthropicError.status).toBe(401);
      expect(anthropicError.error).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) } });
      expect(openaiError).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(openaiError.status).toBe(401);
      expect(openaiError.code).toBe('invalid_api_key');
      expect(standIn.requests.map((request) => request.answered)).toEqual([401, 401]);
    });

    it('refuses a key on every endpoint, not only the model list', async () => {
      const error = await rejectionOf(
        openai({ apiKey: 'sk-proj-not-accepted-0000000000' }).chat.completions.create({
          model: 'gpt-5-mini',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      );

      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    });

    it('accepts a key added later and refuses it once revoked', async () => {
      const key = makeTestKey('OPENAI');
      standIn.acceptKeys(key);
      await expect(listModels.OPENAI({ apiKey: key })).resolves.toHaveLength(3);

      standIn.revokeKeys(key);
      await expect(listModels.OPENAI({ apiKey: key })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    });

    it('reads the key from x-api-key as well as from Authorization: Bearer', async () => {
      const response = await fetch(`${standIn.url}/v1/models`, {
        headers: { 'anthropic-version': '2023-06-01', 'x-api-key': ANTHROPIC_KEY },
      });

      expect(response.status).toBe(200);
      expect(standIn.requests[0]).toMatchObject({ provider: 'ANTHROPIC', apiKey: ANTHROPIC_KEY });
    });

    it('records that the Anthropic SDK sends its key as Authorization: Bearer', async () => {
      await anthropic().models.list();

      expect(standIn.requests[0].headers).toMatchObject({ authorization: `Bearer ${ANTHROPIC_KEY}` });
      expect(standIn.requests[0].headers['x-api-key']).toBeUndefined();
    });
  });

  describe('Anthropic messages', () => {
    it('echoes the last user message with deterministic usage, and records model and key', async () => {
      const message = await anthropic().messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 100,
        system: 'Be brief.', // 9 characters
        messages: [
          { role: 'user', content: 'Hello there' }, // 11
          { role: 'assistant', content: 'Hi' }, // 2
          { role: 'user', content: [{ type: 'text', text: 'How are you?' }] }, // 12
        ],
      });

      expect(message).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: 'claude-haiku-4-5',
        content: [{ type: 'text', text: 'Echo: How are you?' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 9, output_tokens: 5 }, // ceil(34 / 4), ceil(18 / 4)
      });
      expect(message.id).toMatch(/^msg_/);
      expect(standIn.requests[0]).toMatchObject({
        provider: 'ANTHROPIC',
        method: 'POST',
        path: '/v1/messages',
        model: 'claude-haiku-4-5',
        apiKey: ANTHROPIC_KEY,
        body: expect.objectContaining({ max_tokens: 100 }),
      });
    });

    it('answers a scripted reply with tool_use blocks and its token counts', async () => {
      standIn.script('ANTHROPIC', {
        reply: { text: 'Looking it up.', toolCalls: [{ name: 'get_weather', input: { city: 'Paris' } }], inputTokens: 120, outputTokens: 30 },
      });

      const message = await anthropic().messages.create({
        model: 'claude-sonnet-4-6',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
      });

      expect(message.content).toEqual([
        { type: 'text', text: 'Looking it up.' },
        { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input: { city: 'Paris' } },
      ]);
      expect(message.stop_reason).toBe('tool_use');
      expect(message.usage).toMatchObject({ input_tokens: 120, output_tokens: 30 });
    });

    it('answers a request without messages with 400 invalid_request_error', async () => {
      const error = await rejectionOf(
        anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 10 } as Anthropic.MessageCreateParamsNonStreaming),
      );

      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect(error.type).toBe('invalid_request_error');
    });
  });

  describe('OpenAI chat completions', () => {
    it('echoes the last user message with deterministic usage, and records model and key', async () => {
      const completion = await openai().chat.completions.create({
        model: 'gpt-5-mini',
        messages: [
          { role: 'system', content: 'Be brief.' }, // 9 characters
          { role: 'user', content: 'Hello' }, // 5
        ],
      });

      expect(completion).toMatchObject({
        object: 'chat.completion',
        model: 'gpt-5-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Echo: Hello' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 }, // ceil(14 / 4), ceil(11 / 4)
      });
      expect(completion.choices[0].message.tool_calls).toBeUndefined();
      expect(standIn.requests[0]).toMatchObject({
        provider: 'OPENAI',
        method: 'POST',
        path: '/v1/chat/completions',
        model: 'gpt-5-mini',
        apiKey: OPENAI_KEY,
      });
    });

    it('answers a scripted reply with tool_calls whose arguments are JSON', async () => {
      standIn.script('OPENAI', {
        reply: { toolCalls: [{ name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } }] },
      });

      const completion = await openai().chat.completions.create({
        model: 'gpt-5.4',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
      });

      const [choice] = completion.choices;
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.tool_calls).toEqual([
        { id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: expect.any(String) } },
      ]);
      const [call] = choice.message.tool_calls!;
      expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' });
    });
  });

  describe.each(['ANTHROPIC', 'OPENAI'] as const)('scripted behaviours for %s', (provider) => {
    const sdk = provider === 'ANTHROPIC' ? Anthropic : OpenAI;

    it('answers a scripted 429 with RateLimitError carrying the retry-after header', async () => {
      standIn.script(provider, { status: 429, retryAfter: '7', message: 'Slow down.' });

      const error = await rejectionOf(listModels[provider]());

      expect(error).toBeInstanceOf(sdk.RateLimitError);
      expect(error.status).toBe(429);
      expect(error.headers.get('retry-after')).toBe('7');
      expect(error.message).toContain('Slow down.');
    });

    it.each([500, 529])('answers a scripted %i with an APIError of that status', async (status) => {
      standIn.script(provider, { status });

      const error = await rejectionOf(listModels[provider]());

      expect(error).toBeInstanceOf(sdk.APIError);
      expect(error.status).toBe(status);
      expect(standIn.requests[0].answered).toBe(status);
    });

    it('answers in the provider’s error format', async () => {
      standIn.script(provider, { status: 529 });

      const error = await rejectionOf(listModels[provider]());

      expect(error.error).toEqual(
        provider === 'ANTHROPIC'
          ? { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }
          : { message: 'Overloaded', type: 'server_error', code: null, param: null },
      );
    });

    it('drops the connection: APIConnectionError, recorded as dropped', async () => {
      standIn.script(provider, { drop: true });

      const error = await rejectionOf(listModels[provider]());

      expect(error).toBeInstanceOf(sdk.APIConnectionError);
      expect(error).not.toBeInstanceOf(sdk.APIConnectionTimeoutError);
      expect(standIn.requests).toEqual([expect.objectContaining({ provider, answered: 'dropped' })]);
    });

    it('holds the answer back: an SDK timeout shorter than the delay fails the call at the timeout', async () => {
      standIn.script(provider, { delayMs: 2_000 });

      const started = Date.now();
      const error = await rejectionOf(listModels[provider]({ timeout: 200 }));

      expect(Date.now() - started).toBeLessThan(1_500);
      // Under jest, fetch's abort error is a DOMException from outside the test's realm, so not
      // `instanceof Error`. The Anthropic SDK 1.14 allows for that; openai 6.49's castToError does
      // not, loses the error's AbortError name and reports a plain APIConnectionError (outside jest
      // it reports APIConnectionTimeoutError).
      expect(error).toBeInstanceOf(provider === 'ANTHROPIC' ? Anthropic.APIConnectionTimeoutError : OpenAI.APIConnectionError);
      expect(standIn.requests).toHaveLength(1);
    });

    it('answers normally after a delay, or as the delay’s `then`', async () => {
      standIn.script(provider, { delayMs: 100 }, { delayMs: 50, then: { status: 503 } });

      const started = Date.now();
      await expect(listModels[provider]()).resolves.toHaveLength(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      const error = await rejectionOf(listModels[provider]());
      expect(error.status).toBe(503);
    });

    it('keeps serving after a delayed answer’s client has gone', async () => {
      standIn.script(provider, { delayMs: 300 });
      await rejectionOf(listModels[provider]({ timeout: 50 }));

      await sleep(400); // the delayed answer has now met a closed connection

      await expect(listModels[provider]()).resolves.toHaveLength(3);
    });

    it('records whether the client aborted the call while its answer was held back', async () => {
      standIn.script(provider, { delayMs: 5_000 }, { delayMs: 50 });
      const controller = new AbortController();
      const call = provider === 'ANTHROPIC' ? anthropic().models.list({}, { signal: controller.signal }) : openai().models.list({ signal: controller.signal });
      const failed = rejectionOf(call);
      while (standIn.requests.length === 0) await sleep(10);

      controller.abort();
      await failed;
      for (let waited = 0; !standIn.requests[0].aborted && waited < 2_000; waited += 10) await sleep(10);
      await expect(listModels[provider]()).resolves.toHaveLength(3);

      expect(standIn.requests.map((request) => request.aborted)).toEqual([true, false]);
    });

    it('consumes scripts in order, then answers normally again', async () => {
      standIn.script(provider, { status: 500 }, { status: 429 });

      expect((await rejectionOf(listModels[provider]())).status).toBe(500);
      expect((await rejectionOf(listModels[provider]())).status).toBe(429);
      await expect(listModels[provider]()).resolves.toHaveLength(3);
      expect(standIn.requests.map((request) => request.answered)).toEqual([500, 429, 200]);
    });

    it('applies the script before the key check, and only to that provider', async () => {
      standIn.script(provider, { status: 500 });
      const other = provider === 'ANTHROPIC' ? 'OPENAI' : 'ANTHROPIC';

      await expect(listModels[other]()).resolves.toHaveLength(3);
      const error = await rejectionOf(listModels[provider]({ apiKey: makeTestKey(provider) }));
      expect(error.status).toBe(500);
    });

    it('forgets scripts and recorded requests on reset, but keeps accepted keys', async () => {
      standIn.script(provider, { status: 500 });
      await listModels[provider === 'ANTHROPIC' ? 'OPENAI' : 'ANTHROPIC']();

      standIn.reset();

      expect(standIn.requests).toEqual([]);
      await expect(listModels[provider]()).resolves.toHaveLength(3);
    });

    it('answers an unknown endpoint with 404 in the provider’s format', async () => {
      const response = await fetch(`${standIn.url}/v1/nothing-here?x=1`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${provider === 'ANTHROPIC' ? ANTHROPIC_KEY : OPENAI_KEY}`,
          ...(provider === 'ANTHROPIC' ? { 'anthropic-version': '2023-06-01' } : {}),
        },
      });

      expect(response.status).toBe(404);
      expect(await response.json()).toEqual(
        provider === 'ANTHROPIC'
          ? { type: 'error', error: { type: 'not_found_error', message: expect.any(String) } }
          : { error: { message: expect.any(String), type: 'invalid_request_error', code: null, param: null } },
      );
      expect(standIn.requests[0]).toMatchObject({ provider, path: '/v1/nothing-here', answered: 404 });
    });
  });

  describe('Anthropic files', () => {
    it('uploads through the beta Files API and records filename, type and size', async () => {
      const content = Buffer.from('name,amount\nwidget,3\n');

      const file = await anthropic().beta.files.upload({
        file: await toFile(content, 'orders.csv', { type: 'text/csv' }),
      });

      expect(file).toMatchObject({
        type: 'file',
        filename: 'orders.csv',
        mime_type: 'text/csv',
        size_bytes: content.length,
        downloadable: false,
      });
      expect(file.id).toMatch(/^file_/);
      expect(standIn.requests[0]).toMatchObject({
        provider: 'ANTHROPIC',
        method: 'POST',
        path: '/v1/files',
        apiKey: ANTHROPIC_KEY,
        body: { filename: 'orders.csv', mimeType: 'text/csv', sizeBytes: content.length },
      });
    });
  });

  describe('closing', () => {
    it('closes with keep-alive connections open and a delayed answer pending', async () => {
      const own = await startProviderStandIn({ acceptKeys: [OPENAI_KEY] });
      const client = new OpenAI({ apiKey: OPENAI_KEY, baseURL: own.openaiBaseUrl, maxRetries: 0 });
      await client.models.list(); // leaves a pooled keep-alive connection
      own.script('OPENAI', { delayMs: 10_000 });
      const pending = rejectionOf(client.models.list());
      await sleep(50); // until the request has arrived

      await own.close();

      expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(own.requests.map((request) => request.answered)).toEqual([200, 200]);
    });
  });
});

describe('makeTestKey and KEY_PATTERN', () => {
  it('makes fresh keys of each provider’s shape', () => {
    const anthropicKey = makeTestKey('ANTHROPIC');
    const openaiKey = makeTestKey('OPENAI');

    expect(anthropicKey).toMatch(/^sk-ant-api03-test-\S{20,}$/);
    expect(openaiKey).toMatch(/^sk-proj-test-\S{20,}$/);
    for (const key of [anthropicKey, openaiKey]) expect(key.length).toBeGreaterThanOrEqual(40);
    expect(makeTestKey('ANTHROPIC')).not.toBe(anthropicKey);
  });

  it('finds a made key inside a longer string, and not a masked one', () => {
    const key = makeTestKey('OPENAI');

    expect(`{"msg":"calling provider","authorization":"Bearer ${key}"}`.match(KEY_PATTERN)?.[0]).toBe(key);
    expect(KEY_PATTERN.test(`hint sk-proj-…${key.slice(-4)}`)).toBe(false);
  });
});
