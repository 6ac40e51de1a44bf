/**
 * The load generator of the `overhead` bench in a process of its own (autocannon), so that its
 * CPU never shares an event loop with a server measured: it gets a plan over IPC, runs it, and
 * answers the figures. Every response must be HTTP 200 with exactly the body expected.
 */
import autocannon from 'autocannon';

export interface LoadPlan {
  url: string;
  connections: number;
  seconds: number;
  /** When given, exactly this many requests are sent, however long they take (`seconds` is then ignored). */
  amount?: number;
  /** How long one response may take, s (autocannon's default, 10, otherwise). */
  timeoutSeconds?: number;
  /** Sent in turn; each response must be exactly its `expected` body. */
  requests: { body: string; authorization?: string; expected: string }[];
}

export interface LoadFigures {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  firstFailure?: string;
}

function run(plan: LoadPlan): Promise<LoadFigures> {
  let next = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: plan.url,
        method: 'POST',
        connections: plan.connections,
        duration: plan.seconds,
        ...(plan.amount === undefined ? {} : { amount: plan.amount }),
        ...(plan.timeoutSeconds === undefined ? {} : { timeout: plan.timeoutSeconds }),
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest(request, context) {
              const chosen = plan.requests[next % plan.requests.length];
              next += 1;
              context.expected = chosen.expected;
              return { ...request, body: chosen.body, headers: { ...request.headers, ...(chosen.authorization ? { authorization: chosen.authorization } : {}) } };
            },
            onResponse(status, body, context) {
              if (status === 200 && body.trimEnd() === context.expected) return;
              failures += 1;
              firstFailure ??= `HTTP ${status}: expected ${String(context.expected).slice(0, 200)}, got ${body.slice(0, 300)}`;
            },
          },
        ],
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        const total = result.requests.total;
        resolve({
          requests: total,
          seconds: result.duration,
          rps: total / result.duration,
          p50: result.latency.p50,
          p99: result.latency.p99,
          failures: failures + result.errors + result.non2xx,
          firstFailure,
        });
      },
    );
  });
}

process.on('disconnect', () => process.exit(0));
process.on('message', async (message: { id: number; plan: LoadPlan }) => {
  try {
    process.send?.({ id: message.id, result: await run(message.plan) });
  } catch (error) {
    process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
process.send?.({ id: 0, result: process.pid });
