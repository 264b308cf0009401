import { Catch, type ArgumentsHost } from '@nestjs/common';
import { GqlExceptionFilter } from '@nestjs/graphql';
import type { GraphQLError } from 'graphql';
import { resolverError } from './error-mapping.js';

/** Errors thrown by resolvers, turned into GraphQL errors by the one mapping (error-mapping.ts). */
@Catch()
export class DomainErrorFilter implements GqlExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost): GraphQLError {
    return resolverError(exception);
  }
}
