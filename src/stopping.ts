/**
 * Stopping and cancelling (DESIGN.md sections 7 and 10): how long each phase of a shutdown may
 * take, and the signal that tells a request's work its caller went away.
 *
 * On SIGTERM or SIGINT readiness answers 503 at once; requests are still taken for `drainMs`, so
 * that load balancers stop sending; then the listener closes and requests in flight go on for up
 * to `graceMs` (by default a whole run deadline, so every run finishes). Runs still going then are
 * interrupted: their provider calls are aborted and they are recorded FAILED, the attempt in
 * flight INTERRUPTED, and answered. They have `RECORD_MS` for that before the remaining
 * connections are cut; the database is closed after every run is written, and the process exits
 * by `exitAfterMs` whatever happens.
 */
import type http from 'node:http';
import type { Config } from './config';

/** After runs are interrupted: how long they have to be written and answered before connections are cut. */
export const RECORD_MS = 5_000;
/** After the HTTP server is closed and every run written: how long closing the database may take. */
export const CLOSE_MS = 5_000;

export interface ShutdownPlan {
  /** From the signal: requests still taken, readiness 503. */
  drainMs: number;
  /** From the listener's close: requests in flight go on; runs still going then are interrupted. */
  graceMs: number;
  /** From the listener's close: connections still open are cut (Apollo's drain plugin, `stopGracePeriodMillis`). */
  cutAfterMs: number;
  /** From the signal: the process exits with status 1 if it has not stopped by then. */
  exitAfterMs: number;
}

export function shutdownPlan(config: Pick<Config, 'shutdown'>): ShutdownPlan {
  const { drainMs, graceMs } = config.shutdown;
  return { drainMs, graceMs, cutAfterMs: graceMs + RECORD_MS, exitAfterMs: drainMs + graceMs + RECORD_MS + CLOSE_MS };
}

/**
 * Aborted when the caller goes away before its answer is sent: the connection closed while the
 * response was unfinished (a client that gave up, a proxy that timed out, a cut at shutdown).
 */
export function callerGoneSignal(res: http.ServerResponse): AbortSignal {
  const controller = new AbortController();
  // Asked for late (the request's context makes it when first read): the connection may be gone already.
  if (res.closed) {
    if (!res.writableFinished) controller.abort();
    return controller.signal;
  }
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

export const delay = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());
