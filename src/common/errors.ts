/** The error codes clients see in `extensions.code` (besides INTERNAL_SERVER_ERROR); each is mapped in error-mapping.ts. */
export const ERROR_CODES = [
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NET_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An expected failure of a use case; the GraphQL layer turns it into an error with its code. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id?: string): DomainError =>
  new DomainError('NOT_FOUND', id === undefined ? `${what} not found` : `${what} ${id} not found`);

export const badInput = (message: string, details?: Record<string, unknown>): DomainError =>
  new DomainError('BAD_USER_INPUT', message, details);

export const conflict = (message: string, details?: Record<string, unknown>): DomainError =>
  new DomainError('CONFLICT', message, details);
