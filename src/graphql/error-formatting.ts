import { Logger } from '@nestjs/common';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError, type ErrorCode } from '../common/errors.js';

const logger = new Logger('GraphQL');

/** Apollo's codes for requests that never reached a resolver because the client sent something wrong. */
const CLIENT_REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

function httpStatusOf(code: ErrorCode): number | undefined {
  switch (code) {
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'BAD_USER_INPUT':
    case 'CONFLICT':
    case 'NET_UNAVAILABLE':
    case 'NET_ERROR':
      return undefined; // an execution error: HTTP 200 with `errors`
  }
}

/** Turns a domain error into the GraphQL error clients see. */
export function toGraphQLError(error: DomainError): GraphQLError {
  const status = httpStatusOf(error.code);
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { code: error.code, ...(error.details ?? {}), ...(status ? { http: { status } } : {}) },
  });
}

/**
 * The last word on every error leaving the API: domain errors keep their
 * code; malformed requests become BAD_USER_INPUT (with Apollo's own code kept
 * as `reason`); anything unexpected is logged with its stack and answered
 * without internals.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof DomainError) {
    return { ...formatted, extensions: { ...formatted.extensions, code: original.code } };
  }
  const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
  if (code !== undefined && CLIENT_REQUEST_CODES.has(code)) {
    const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { ...extensions, code: 'BAD_USER_INPUT', reason: code } };
  }
  if (code !== undefined && code !== 'INTERNAL_SERVER_ERROR') return formatted;
  logger.error(`unexpected error: ${formatted.message}`, original instanceof Error ? original.stack : undefined);
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
