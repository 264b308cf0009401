import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import type { Request } from 'express';
import type { Context as WsContext } from 'graphql-ws';
import type { Principal } from '../common/auth/roles.js';
import { TokenVerifier } from '../common/auth/token-verifier.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { JobsModule } from '../modules/jobs/jobs.module.js';
import { ModelsModule } from '../modules/models/models.module.js';
import { NetsModule } from '../modules/nets/nets.module.js';
import { TrustsModule } from '../modules/trusts/trusts.module.js';
import { DateTimeScalar } from './date-time.scalar.js';
import { formatGraphQLError } from '../common/error-mapping.js';
import { LoadersFactory, type GqlContext } from './loaders.js';
import { answerPreloadedFields } from './preloaded-fields.js';
import { fieldLimitPlugin, REQUEST_LIMITS, requestLimitRules } from './request-limits.js';

@Module({
  imports: [NetsModule, JobsModule, ModelsModule, TrustsModule],
  providers: [LoadersFactory],
  exports: [LoadersFactory],
})
export class LoadersModule {}

type WsExtra = { principal?: Principal };

/** Apollo, code-first. The schema is generated in memory from the resolvers and models. */
export const GraphqlApiModule = GraphQLModule.forRootAsync<ApolloDriverConfig>({
  driver: ApolloDriver,
  imports: [LoadersModule],
  inject: [LoadersFactory, APP_CONFIG, TokenVerifier],
  useFactory: (loaders: LoadersFactory, config: AppConfig, tokens: TokenVerifier): ApolloDriverConfig => ({
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
    context: ({ req, extra }: { req?: Request; extra?: WsExtra }): GqlContext & { principal?: Principal } =>
      extra ? { principal: extra.principal, loaders: loaders.create({ cache: false }) } : { req, loaders: loaders.create() },
  }),
});
