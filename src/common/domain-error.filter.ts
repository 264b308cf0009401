import { Catch, HttpException, Logger, type ArgumentsHost } from '@nestjs/common';
import { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { toGraphQLError } from '../graphql/error-formatting.js';
import { DomainError } from './errors.js';

/** One place where errors thrown by resolvers become GraphQL errors with `extensions.code`. */
@Catch()
export class DomainErrorFilter implements GqlExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, _host: ArgumentsHost): GraphQLError {
    if (exception instanceof DomainError) return toGraphQLError(exception);
    if (exception instanceof GraphQLError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code =
        status === 401
          ? 'UNAUTHENTICATED'
          : status === 403
            ? 'FORBIDDEN'
            : status === 404
              ? 'NOT_FOUND'
              : status < 500
                ? 'BAD_USER_INPUT'
                : undefined;
      if (code) return toGraphQLError(new DomainError(code, exception.message));
    }
    if (isDataException(exception)) {
      // e.g. a value PostgreSQL cannot store: the client's input, not a fault of the hub
      return toGraphQLError(new DomainError('BAD_USER_INPUT', 'a value in the request is not valid'));
    }
    this.logger.error('unexpected error in a resolver', exception instanceof Error ? exception.stack : String(exception));
    return new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }
}

/** PostgreSQL's class 22 (data exception): invalid text, numbers out of range and the like. */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}
