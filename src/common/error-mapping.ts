import { HttpException, Logger } from '@nestjs/common';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError, ERROR_CODES, type ErrorCode } from './errors.js';

/**
 * The one mapping from errors to what GraphQL clients see: domain codes
 * through an exhaustive switch, what a client got wrong as BAD_USER_INPUT,
 * anything else logged with its stack and answered as a bare internal error.
 * The exception filter (resolvers) and Apollo's formatError (everything) both
 * go through it.
 */

const logger = new Logger('Errors');

/** Fails to compile when a code reaches it, i.e. when a switch misses one. */
export function assertUnreachable(value: never): never {
  throw new Error(`unmapped error code: ${String(value)}`);
}

/** The HTTP status a domain code sets on the response; undefined: 200, an execution error beside `data`. */
export function httpStatusOf(code: ErrorCode): number | undefined {
  switch (code) {
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'BAD_USER_INPUT':
    case 'CONFLICT':
    case 'NET_UNAVAILABLE':
      return undefined;
    default:
      return assertUnreachable(code);
  }
}

const DOMAIN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** Apollo's codes for requests that never reached a resolver because the client sent something wrong. */
const CLIENT_REQUEST_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/** What a resolver threw, as the domain error a client is told; null when it is a fault of the hub. */
export function asDomainError(error: unknown): DomainError | null {
  if (error instanceof DomainError) return error;
  if (error instanceof HttpException) {
    // Nest's own guards and pipes speak HTTP; a 5xx is the hub's fault
    const status = error.getStatus();
    if (status === 401) return new DomainError('UNAUTHENTICATED', error.message);
    if (status === 403) return new DomainError('FORBIDDEN', error.message);
    if (status === 404) return new DomainError('NOT_FOUND', error.message);
    if (status < 500) return new DomainError('BAD_USER_INPUT', error.message);
  }
  if (isDataException(error)) {
    // e.g. a value PostgreSQL cannot store: the client's input, not a fault of the hub
    return new DomainError('BAD_USER_INPUT', 'a value in the request is not valid');
  }
  return null;
}

/** A domain error as the GraphQL error clients see: its message, code, details and HTTP status. */
export function toGraphQLError(error: DomainError): GraphQLError {
  const status = httpStatusOf(error.code);
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { code: error.code, ...(error.details ?? {}), ...(status === undefined ? {} : { http: { status } }) },
  });
}

/** The answer to a fault of the hub, once it has been logged: nothing about its cause. */
class InternalError extends GraphQLError {
  constructor() {
    super('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }
}

/** Logs an unexpected error with its stack and returns the bare internal error that stands for it. */
export function internalError(where: string, error: unknown): GraphQLError {
  logger.error(`unexpected error ${where}`, error instanceof Error ? error.stack : String(error));
  return new InternalError();
}

/** Every error a resolver throws: a domain error keeps its code, a GraphQL error passes, the rest is internal. */
export function resolverError(exception: unknown): GraphQLError {
  const domain = asDomainError(exception);
  if (domain) return toGraphQLError(domain);
  if (exception instanceof GraphQLError) return exception;
  return internalError('in a resolver', exception);
}

/**
 * Apollo's formatError, the last word on every error leaving the API:
 * domain codes are kept; malformed requests become BAD_USER_INPUT (with a
 * `reason`: the rule's own, e.g. REQUEST_LIMIT, else Apollo's code); any other
 * code is a fault of the hub.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof DomainError) {
    return { ...formatted, extensions: { ...formatted.extensions, code: original.code } };
  }
  const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
  if (code !== undefined && CLIENT_REQUEST_CODES.has(code)) {
    const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { ...extensions, code: 'BAD_USER_INPUT', reason: extensions.reason ?? code } };
  }
  if (code !== undefined && DOMAIN_CODES.has(code)) return formatted;
  const internal = original instanceof InternalError ? original : internalError(`(${formatted.message})`, original);
  return { message: internal.message, locations: formatted.locations, path: formatted.path, extensions: internal.extensions };
}

/** PostgreSQL's class 22 (data exception): invalid text, numbers out of range and the like. */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}
