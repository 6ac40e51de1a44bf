/**
 * What the rest of the service tells observability (DESIGN.md section 11): one call per attempt
 * of a run, per key check and per connection status change. Each is counted in the metrics and,
 * when tracing was started (src/telemetry/start.ts), becomes a span; without tracing nothing of
 * OpenTelemetry is loaded.
 */
import type http from 'node:http';
import { type AttemptFacts, type CooldownFacts, metrics } from './metrics';
import { currentTracing } from './tracing-slot';

/** One row of a run's timeline, as the run loop records it. */
export interface AttemptRecord extends AttemptFacts {
  httpStatus: number | null;
  latencyMs: number;
  startedAt: Date;
}

export type KeyCheckOutcome = 'ACCEPTED' | 'REJECTED' | 'UNREACHABLE';

export interface KeyCheckRecord {
  provider: string;
  outcome: KeyCheckOutcome;
  httpStatus: number | null;
  startedAt: Date;
  latencyMs: number;
}

/** The trace and span a log line belongs to. */
export interface TraceIds {
  trace_id: string;
  span_id?: string;
}

/** What tracing adds (src/telemetry/tracing.ts), once started. */
export interface Tracing {
  attempt(attempt: AttemptRecord, failover: boolean): void;
  keyCheck(check: KeyCheckRecord): void;
  /** The route of the request whose server span is active (`http.route`, and the span's name), when it is traced. */
  route(route: string): void;
  /** The active span's ids, if a span is active and recording (a request not sampled has none). */
  activeIds(): TraceIds | undefined;
  /**
   * Runs `work` with tracing suppressed: what it starts (a listening socket, and each connection
   * it accepts) makes no span unless a traced request's context is entered.
   */
  untraced<T>(work: () => T): T;
  /**
   * `callback` to run in the active context when it is called (a traced request's, for what goes
   * on after its body is read, which its stream's events would run in the connection's context).
   */
  bound<F extends (...args: never[]) => unknown>(callback: F): F;
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}


/**
 * One attempt of a run, as the timeline records it; `goesOn` when the run goes on to its next
 * candidate after it. A failover is a failed attempt the run goes on from.
 */
export function recordAttempt(attempt: AttemptRecord, goesOn: boolean): void {
  const failover = goesOn && attempt.outcome === 'FAILED';
  metrics().attempt(attempt, failover);
  currentTracing()?.attempt(attempt, failover);
}

/** A key checked with its provider (src/connections/provider-check.ts). */
export function recordKeyCheck(check: KeyCheckRecord): void {
  metrics().keyChecked(check.provider, check.outcome);
  currentTracing()?.keyCheck(check);
}

/** A model cooled on an account after a retriable failure (DESIGN.md section 7). */
export function recordCooldown(cooldown: CooldownFacts): void {
  metrics().cooled(cooldown);
}

/** A cooling model served again: its cooldown was cleared. */
export function recordCooldownCleared(cooldown: Pick<CooldownFacts, 'provider' | 'modelId' | 'platform'>): void {
  metrics().cooldownCleared(cooldown);
}

/** A connection's stored status changed. */
export function recordConnectionStatus(provider: string, status: string): void {
  metrics().connectionStatusChanged(provider, status);
}

/** W3C trace context: version 00, a trace id, a parent id and flags, none of them all zeros. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ids = new WeakMap<http.IncomingMessage, TraceIds | null>();

/**
 * The trace ids a request's log lines carry: those of its span when tracing runs, else the trace
 * id of the `traceparent` it came with (the router's trace), so the logs join the traces either way.
 * Read once per request, at its start, when its span is the active one.
 */
export function traceIdsOf(req: http.IncomingMessage): TraceIds | undefined {
  let known = ids.get(req);
  if (known === undefined) {
    const header = req.headers.traceparent;
    known = currentTracing()?.activeIds() ?? (typeof header === 'string' ? fromTraceparent(header) : undefined) ?? null;
    ids.set(req, known);
  }
  return known ?? undefined;
}

function fromTraceparent(header: string): TraceIds | undefined {
  const match = TRACEPARENT.exec(header);
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return { trace_id: match[1] };
}

export { shutdownTelemetry, tracingStarted, useTracing } from './tracing-slot';
