/**
 * Which errors mean "the database did not answer in time, or is not there": they are no fault of
 * the request and no bug of the service, so clients get SERVICE_UNAVAILABLE (retry later) and the
 * log counts them (outage-log.ts) instead of printing a stack for each.
 */

export type FaultKind = 'timeout' | 'unreachable';

export interface DatabaseFault {
  /** `timeout`: the database is there but did not answer in time; `unreachable`: it is not there. */
  kind: FaultKind;
  /** What happened, in words, for the log. */
  reason: string;
  /** The SQLSTATE or system error code, when there is one. */
  code?: string;
}

/** SQLSTATEs (PostgreSQL appendix A) that are a timeout or an outage. */
const SQLSTATES: Record<string, Omit<DatabaseFault, 'code'>> = {
  '57014': { kind: 'timeout', reason: 'statement timeout' },
  '55P03': { kind: 'timeout', reason: 'lock timeout' },
  '25P03': { kind: 'timeout', reason: 'idle-in-transaction timeout' },
  '57P01': { kind: 'unreachable', reason: 'the server ended the connection (shutdown or terminated backend)' },
  '57P02': { kind: 'unreachable', reason: 'the server crashed' },
  '57P03': { kind: 'unreachable', reason: 'the server is starting up or shutting down' },
  '53300': { kind: 'unreachable', reason: 'the server has no connection slot left' },
};

/** Node's system errors for a connection that could not be made or was lost. */
const SYSTEM_ERRORS: Record<string, Omit<DatabaseFault, 'code'>> = {
  ECONNREFUSED: { kind: 'unreachable', reason: 'connection refused' },
  ECONNRESET: { kind: 'unreachable', reason: 'connection reset' },
  EPIPE: { kind: 'unreachable', reason: 'connection lost' },
  ECONNABORTED: { kind: 'unreachable', reason: 'connection aborted' },
  ETIMEDOUT: { kind: 'timeout', reason: 'connection timed out' },
  EHOSTUNREACH: { kind: 'unreachable', reason: 'host unreachable' },
  ENETUNREACH: { kind: 'unreachable', reason: 'network unreachable' },
  ENOTFOUND: { kind: 'unreachable', reason: 'host not found' },
  EAI_AGAIN: { kind: 'unreachable', reason: 'host name lookup failed' },
};

/** What `pg` and `pg-pool` throw without a code. */
const DRIVER_MESSAGES: [RegExp, Omit<DatabaseFault, 'code'>][] = [
  [/^timeout exceeded when trying to connect$/, { kind: 'timeout', reason: 'no pooled connection within the connect timeout' }],
  [/^Connection terminated due to connection timeout$/, { kind: 'timeout', reason: 'connecting timed out' }],
  [/^Query read timeout$/, { kind: 'timeout', reason: 'no answer within the read timeout' }],
  [/^Connection terminated/, { kind: 'unreachable', reason: 'connection lost' }],
  [/^Client has encountered a connection error and is not queryable$/, { kind: 'unreachable', reason: 'connection lost' }],
  [/^Client was closed and is not queryable$/, { kind: 'unreachable', reason: 'connection closed' }],
  [/^Cannot use a pool after calling end on the pool$/, { kind: 'unreachable', reason: 'the database is closing' }],
];

function own(error: object): DatabaseFault | undefined {
  const { code, message, name } = error as { code?: unknown; message?: unknown; name?: unknown };
  // TypeORM releases a query runner whose connection failed (its 'error' event: a terminated
  // backend, an idle-in-transaction timeout); the transaction's next statement then finds it so.
  if (name === 'QueryRunnerAlreadyReleasedError') return { kind: 'unreachable', reason: 'connection lost during a transaction' };
  if (typeof code === 'string') {
    const known = SQLSTATES[code] ?? SYSTEM_ERRORS[code];
    if (known) return { ...known, code };
    // Class 08: connection exceptions.
    if (/^08[0-9A-Z]{3}$/.test(code)) return { kind: 'unreachable', reason: 'connection exception', code };
  }
  if (typeof message === 'string') {
    for (const [pattern, fault] of DRIVER_MESSAGES) if (pattern.test(message)) return { ...fault };
  }
  return undefined;
}

/**
 * The database fault behind `error`, or undefined when it is something else (a constraint, bad
 * SQL, a bug). Looks through the wrappers in between: TypeORM's QueryFailedError (`driverError`),
 * GraphQL's `originalError` (and `thrownValue`, for a non-Error that was thrown: pg-pool rejects a
 * refused connection with the plain object it got), `cause`, and Node's AggregateError (`errors`,
 * from connecting to every address of a host name).
 */
export function databaseFault(error: unknown): DatabaseFault | undefined {
  const seen = new Set<object>();
  const visit = (value: unknown, depth: number): DatabaseFault | undefined => {
    if (typeof value !== 'object' || value === null || seen.has(value) || depth > 5) return undefined;
    seen.add(value);
    const found = own(value);
    if (found) return found;
    const { driverError, originalError, thrownValue, cause, errors } = value as Record<string, unknown>;
    for (const inner of [driverError, originalError, thrownValue, cause, ...(Array.isArray(errors) ? errors : [])]) {
      const fault = visit(inner, depth + 1);
      if (fault) return fault;
    }
    return undefined;
  };
  return visit(error, 0);
}

export const isDatabaseFault = (error: unknown): boolean => databaseFault(error) !== undefined;
