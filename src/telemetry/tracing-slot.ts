/**
 * Whether tracing runs, and its hooks once started: a module of its own that loads nothing, so
 * that start.ts (main.ts's first import) and main.ts reach it before the lock and the port are
 * taken, without the metrics, the catalog or GraphQL that telemetry.ts brings.
 */
import type { Tracing } from './telemetry';

let tracing: Tracing | undefined;

export function useTracing(started: Tracing): void {
  tracing = started;
}

export const currentTracing = (): Tracing | undefined => tracing;

export const tracingStarted = (): boolean => tracing !== undefined;

/** `work` with tracing suppressed, when it runs (Tracing.untraced); else just `work`. */
export const untraced = <T>(work: () => T): T => (tracing ? tracing.untraced(work) : work());

/** Before the process exits: the spans still buffered are exported. */
export async function shutdownTelemetry(): Promise<void> {
  await tracing?.shutdown();
}
