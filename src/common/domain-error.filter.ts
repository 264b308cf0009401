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
      const code = status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : status === 404 ? 'NOT_FOUND' : status < 500 ? 'BAD_USER_INPUT' : undefined;
      if (code) return toGraphQLError(new DomainError(code, exception.message));
    }
    this.logger.error('unexpected error in a resolver', exception instanceof Error ? exception.stack : String(exception));
    return new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  }
}
