import { CombinedGraphQLErrors } from '@apollo/client';
import type { GraphQLFormattedError } from 'graphql';

/** An error of the API as the page shows it: its code, its sentence, and what it carries. */
export interface ApiError {
  code: string;
  message: string;
  field?: string;
  extensions: Record<string, unknown>;
  path?: readonly (string | number)[];
}

function fromGraphQL(error: GraphQLFormattedError): ApiError {
  const extensions = (error.extensions ?? {}) as Record<string, unknown>;
  return {
    code: String(extensions.code ?? 'INTERNAL_SERVER_ERROR'),
    message: error.message,
    field: typeof extensions.field === 'string' ? extensions.field : undefined,
    extensions,
    path: error.path,
  };
}

/** The GraphQL errors of a failed operation; a network failure is one error of its own. */
export function apiErrors(error: unknown): ApiError[] {
  if (!error) return [];
  if (CombinedGraphQLErrors.is(error)) return error.errors.map(fromGraphQL);
  return [{ code: 'NETWORK', message: 'The service did not answer. Check your connection and try again.', extensions: {} }];
}

/** Whether an error stands on `path` (a field of the answer). */
export const isAt = (error: ApiError, path: (string | number)[]) =>
  error.path !== undefined && error.path.length === path.length && path.every((part, index) => error.path?.[index] === part);
