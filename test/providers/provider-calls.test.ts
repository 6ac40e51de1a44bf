import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { callProvider } from '../../src/providers/provider-calls';
import { Provider } from '../../src/catalog/catalog';

/**
 * callProvider: the service's deadline and the caller's stop around one SDK call. What it gives the
 * call is let go of when the call ends, answer or failure, so that nothing of a finished call stays
 * registered on the run's stop signal until its deadline passes.
 */
const never = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('callProvider', () => {
  it('keeps nothing of a finished call: what the call hung on its signal is collected', async () => {
    const stop = new AbortController();
    let held: WeakRef<object> | undefined;
    await callProvider(
      Provider.ANTHROPIC,
      60_000,
      async (signal) => {
        const request = { body: 'x'.repeat(1000) };
        held = new WeakRef(request);
        signal.addEventListener('abort', () => request.body);
        return 'answer';
      },
      stop.signal,
    );
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(held?.deref()).toBeUndefined();
  });

  it('answers, and leaves no listener on the caller’s stop', async () => {
    const stop = new AbortController();
    const result = await callProvider(Provider.ANTHROPIC, 60_000, async () => 'answer', stop.signal);
    expect(result).toEqual({ ok: true, value: 'answer' });
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('fails as a timeout when the deadline passes first, and leaves no listener', async () => {
    const stop = new AbortController();
    const result = await callProvider(Provider.OPENAI, 30, never, stop.signal);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'TIMEOUT', type: 'timeout', provider: Provider.OPENAI } });
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('fails as the stop’s reason when the caller stops first', async () => {
    const stop = new AbortController();
    const pending = callProvider(Provider.ANTHROPIC, 60_000, never, stop.signal);
    stop.abort('CANCELLED');
    expect(await pending).toMatchObject({ ok: false, failure: { kind: 'CANCELLED', type: 'cancelled' } });
  });

  it('aborts the call at once when the stop came before it', async () => {
    const stop = new AbortController();
    stop.abort('INTERRUPTED');
    let aborted: boolean | undefined;
    const result = await callProvider(
      Provider.ANTHROPIC,
      60_000,
      async (signal) => {
        aborted = signal.aborted;
        throw signal.reason;
      },
      stop.signal,
    );
    expect(aborted).toBe(true);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'INTERRUPTED' } });
  });
});
