import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { ModuleRef } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import type { AuthenticatedRequest } from '../common/auth/auth.guard.js';
import type { Context as WsContext } from 'graphql-ws';
import type { Principal } from '../common/auth/roles.js';
import { TokenVerifier } from '../common/auth/token-verifier.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DateTimeScalar } from './date-time.scalar.js';
import { formatGraphQLError } from '../common/error-mapping.js';
import { RequestLoaders, type GqlContext } from './request-loaders.js';
import { answerPreloadedFields } from './preloaded-fields.js';
import { fieldLimitPlugin, REQUEST_LIMITS, requestLimitRules } from './request-limits.js';

type WsExtra = { principal?: Principal };

/** Apollo, code-first. The schema is generated in memory from the resolvers and models. */
export const GraphqlApiModule = GraphQLModule.forRootAsync<ApolloDriverConfig>({
  driver: ApolloDriver,
  inject: [ModuleRef, APP_CONFIG, TokenVerifier],
  useFactory: (moduleRef: ModuleRef, config: AppConfig, tokens: TokenVerifier): ApolloDriverConfig => ({
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    buildSchemaOptions: { scalarsMap: [{ type: Date, scalar: DateTimeScalar }] },
    transformSchema: answerPreloadedFields,
    graphiql: false,
    includeStacktraceInErrorResponses: false,
    introspection: config.graphqlIntrospection,
    allowBatchedHttpRequests: false,
    validationRules: requestLimitRules(REQUEST_LIMITS),
    formatError: formatGraphQLError,
    // no HTTP caching of GraphQL answers here; the plugin would wrap every field resolver
    plugins: [ApolloServerPluginCacheControlDisabled(), fieldLimitPlugin(REQUEST_LIMITS)],
    subscriptions: {
      'graphql-ws': {
        path: '/graphql',
        // the token travels in connection_init: { "authorization": "Bearer <jwt>" }
        onConnect: async (ctx: WsContext<Record<string, unknown> | undefined>) => {
          const extra = ctx.extra as WsExtra;
          const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
          try {
            extra.principal = await tokens.verify(typeof authorization === 'string' ? authorization : undefined);
            return true;
          } catch {
            return false;
          }
        },
      },
    },
    context: ({ req, extra }: { req?: AuthenticatedRequest; extra?: WsExtra }): GqlContext =>
      extra
        ? { principal: extra.principal, loaders: new RequestLoaders(moduleRef, false) }
        : { req, loaders: new RequestLoaders(moduleRef, true) },
  }),
});
