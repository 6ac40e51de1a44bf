import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { databaseFault } from './database/faults';

/** Every error code the service answers with (DESIGN.md section 9), carried in `extensions.code`. */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  CONFLICT = 'CONFLICT',
  INVALID_API_KEY = 'INVALID_API_KEY',
  PROVIDER_UNREACHABLE = 'PROVIDER_UNREACHABLE',
  MODEL_NOT_AVAILABLE = 'MODEL_NOT_AVAILABLE',
  CONNECTION_IN_USE = 'CONNECTION_IN_USE',
  NOT_A_PARENT = 'NOT_A_PARENT',
  CYCLE = 'CYCLE',
  /** The database did not answer in time, or is down: retry later (src/database/faults.ts). */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
}

/**
 * An error the caller can act on. Services throw these; `formatError` turns them into GraphQL
 * errors. `details` lands in `extensions` and must never hold a secret.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string) =>
  new DomainError(ErrorCode.NOT_FOUND, `${what} ${id} does not exist`, { id });

export const badInput = (message: string, field?: string) =>
  new DomainError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});

/** A request without a valid token; `reason` says what was wrong with the one given. */
export const unauthenticated = (reason: string | undefined) => new DomainError(ErrorCode.UNAUTHENTICATED, reason ?? 'Authentication required');

/** Codes that graphql-js, Apollo Server and graphql-armor give to errors in the request itself. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';
export const DATABASE_TIMEOUT_MESSAGE = 'The database did not answer in time; retry later';
export const DATABASE_DOWN_MESSAGE = 'The database is unavailable; retry later';

type ValidationIssue = ArgumentValidationError['extensions']['validationErrors'][number];

function describeValidation(issues: ValidationIssue[], prefix = ''): { field: string; problems: string[] }[] {
  return issues.flatMap((issue) => {
    const field = prefix ? `${prefix}.${issue.property}` : issue.property;
    const own = issue.constraints ? [{ field, problems: Object.values(issue.constraints) }] : [];
    return [...own, ...describeValidation(issue.children ?? [], field)];
  });
}

/**
 * True when an error is one the service did not expect: it is masked and logged. Expected are
 * domain errors, argument validation, and the request errors that graphql-js, Apollo Server and
 * graphql-armor raise (they carry a known code); anything a resolver threw otherwise is not.
 */
export function isUnexpected(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return !(error instanceof DomainError);
  const original = error.originalError;
  if (original instanceof DomainError || original instanceof ArgumentValidationError) return false;
  // A timeout or an outage of the database: counted by the outage log, not logged one by one.
  if (databaseFault(original) !== undefined) return false;
  if (original !== undefined && !(original instanceof GraphQLError)) return true;
  const code = error.extensions?.code;
  return !(typeof code === 'string' && (REQUEST_ERROR_CODES.has(code) || code in ErrorCode));
}

/**
 * The one place where errors become what a client sees. Domain errors keep their code, message
 * and details; request errors keep their message; validation errors name fields, never values;
 * database timeouts and outages are SERVICE_UNAVAILABLE with a fixed message; everything else is
 * masked to INTERNAL_SERVER_ERROR with no stack, SQL or message.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  const base = { locations: formatted.locations, path: formatted.path };

  if (original instanceof DomainError) {
    return { ...base, message: original.message, extensions: { ...original.details, code: original.code } };
  }
  const fault = databaseFault(original);
  if (fault) {
    const message = fault.kind === 'timeout' ? DATABASE_TIMEOUT_MESSAGE : DATABASE_DOWN_MESSAGE;
    return { ...base, message, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } };
  }
  if (original instanceof ArgumentValidationError) {
    const issues = describeValidation(original.extensions.validationErrors);
    const summary = issues.map((issue) => `${issue.field}: ${issue.problems.join(', ')}`).join('; ');
    return {
      ...base,
      message: summary ? `Invalid input: ${summary}` : 'Invalid input',
      extensions: { code: ErrorCode.BAD_USER_INPUT, fields: issues },
    };
  }
  if (!isUnexpected(error)) {
    // graphql's own token limit names the number; limits are never told to clients.
    const message = /more tha[nt] \d+ tokens/.test(formatted.message) ? 'Syntax Error: the document is too long.' : formatted.message;
    return { ...base, message, extensions: { code: formatted.extensions?.code } };
  }
  return { ...base, message: INTERNAL_ERROR_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
