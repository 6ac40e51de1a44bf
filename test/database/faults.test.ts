import { GraphQLError, locatedError } from 'graphql';
import { QueryFailedError, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { databaseFault } from '../../src/database/faults';
import { ErrorCode, formatError, isUnexpected } from '../../src/errors';

/** An error as pg makes one for a server's ErrorResponse. */
const sqlError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'ERROR' });
const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -1, syscall: 'connect' });

describe('database faults', () => {
  it.each([
    ['57014', 'canceling statement due to statement timeout', 'timeout', 'statement timeout'],
    ['55P03', 'canceling statement due to lock timeout', 'timeout', 'lock timeout'],
    ['25P03', 'terminating connection due to idle-in-transaction timeout', 'timeout', 'idle-in-transaction timeout'],
    ['57P01', 'terminating connection due to administrator command', 'unreachable', undefined],
    ['57P02', 'terminating connection because of crash of another server process', 'unreachable', undefined],
    ['57P03', 'the database system is starting up', 'unreachable', undefined],
    ['08006', 'connection failure', 'unreachable', undefined],
    ['08P01', 'protocol violation', 'unreachable', undefined],
  ])('knows SQLSTATE %s (%s), also inside a QueryFailedError and a GraphQLError', (code, message, kind, reason) => {
    const direct = databaseFault(sqlError(code, message));
    expect(direct).toMatchObject({ kind, code, ...(reason ? { reason } : {}) });
    const wrapped = new GraphQLError('x', { originalError: new QueryFailedError('SELECT 1', [], sqlError(code, message)) });
    expect(databaseFault(wrapped)).toEqual(direct);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'])('knows the system error %s, also in an AggregateError', (code) => {
    expect(databaseFault(systemError(code))).toMatchObject({ code });
    expect(databaseFault(new AggregateError([systemError(code), systemError(code)], 'all failed'))).toMatchObject({ code });
  });

  it('knows a refused connection thrown as a plain object (what graphql-js calls NonErrorThrown)', () => {
    const thrown = { errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 5432 };
    expect(databaseFault(locatedError(thrown, undefined, ['viewer']))).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED' });
  });

  it.each([
    ['timeout exceeded when trying to connect', 'timeout'],
    ['Connection terminated due to connection timeout', 'timeout'],
    ['Query read timeout', 'timeout'],
    ['Connection terminated unexpectedly', 'unreachable'],
    ['Client has encountered a connection error and is not queryable', 'unreachable'],
  ])("knows pg's %j", (message, kind) => {
    expect(databaseFault(new Error(message))).toMatchObject({ kind });
    expect(databaseFault(new Error('wrapped', { cause: new Error(message) }))).toMatchObject({ kind });
  });

  it("knows TypeORM's released query runner: its connection failed during a transaction", () => {
    expect(databaseFault(new QueryRunnerAlreadyReleasedError())).toMatchObject({ kind: 'unreachable' });
  });

  it.each([
    ['a unique violation', sqlError('23505', 'duplicate key value violates unique constraint')],
    ['a missing table', sqlError('42P01', 'relation "organization" does not exist')],
    ['a serialization failure', sqlError('40001', 'could not serialize access')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a non-error', 'Query read timeout'],
  ])('is not %s', (_what, error) => {
    expect(databaseFault(error)).toBeUndefined();
  });

  it('survives an error that wraps itself', () => {
    const error = new Error('loop') as Error & { cause?: unknown };
    error.cause = error;
    expect(databaseFault(error)).toBeUndefined();
  });
});

describe('formatError for database faults', () => {
  const format = (original: Error) => {
    const error = new GraphQLError(original.message, { originalError: original, path: ['viewer'] });
    return { formatted: formatError({ message: error.message, path: ['viewer'] }, error), unexpected: isUnexpected(error) };
  };

  it('answers a timeout with SERVICE_UNAVAILABLE and a fixed message, no SQL, and does not call it unexpected', () => {
    const { formatted, unexpected } = format(new QueryFailedError('SELECT secret FROM organization', ['p1'], sqlError('55P03', 'canceling statement due to lock timeout')));
    expect(formatted).toEqual({
      message: 'The database did not answer in time; retry later',
      path: ['viewer'],
      locations: undefined,
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
    });
    expect(unexpected).toBe(false);
  });

  it('answers an outage with SERVICE_UNAVAILABLE and says the database is unavailable', () => {
    const { formatted, unexpected } = format(systemError('ECONNREFUSED'));
    expect(formatted).toMatchObject({ message: 'The database is unavailable; retry later', extensions: { code: 'SERVICE_UNAVAILABLE' } });
    expect(JSON.stringify(formatted)).not.toMatch(/127\.0\.0\.1|5432/);
    expect(unexpected).toBe(false);
  });

  it('still masks other database errors to INTERNAL_SERVER_ERROR', () => {
    const { formatted, unexpected } = format(new QueryFailedError('SELECT', [], sqlError('42P01', 'relation "organization" does not exist')));
    expect(formatted.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(unexpected).toBe(true);
  });
});
