/**
 * A request's target (`req.url`), read as every part of the service reads it: it has no fragment,
 * so its query is all from its first '?'. Nothing here imports anything, so that tracing, which
 * starts before the rest of the service loads, can use it.
 */

/** The target's path: all before its first '?'. */
export function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}

/** The target's search: from its first '?' on, or '' without one. */
export function searchOf(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? '' : target.slice(query);
}

/** The routes that are polled, not served: their completion is not logged and they are never traced. */
const POLLED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Whether a request's target is one of the polled routes, with or without a query. */
export const isPolled = (target: string | undefined): boolean => POLLED_PATHS.has(pathOf(target ?? ''));
