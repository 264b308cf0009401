import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import type { Request } from 'express';
import { JobsModule } from '../modules/jobs/jobs.module.js';
import { ModelsModule } from '../modules/models/models.module.js';
import { NetsModule } from '../modules/nets/nets.module.js';
import { TrustsModule } from '../modules/trusts/trusts.module.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { REQUEST_LIMITS, requestLimitRules } from './request-limits.js';
import { DateTimeScalar } from './date-time.scalar.js';
import { formatGraphQLError } from './error-formatting.js';
import { LoadersFactory, type GqlContext } from './loaders.js';

@Module({
  imports: [NetsModule, JobsModule, ModelsModule, TrustsModule],
  providers: [LoadersFactory],
  exports: [LoadersFactory],
})
export class LoadersModule {}

/** Apollo, code-first. The schema is generated in memory from the resolvers and models. */
export const GraphqlApiModule = GraphQLModule.forRootAsync<ApolloDriverConfig>({
  driver: ApolloDriver,
  imports: [LoadersModule],
  inject: [LoadersFactory, APP_CONFIG],
  useFactory: (loaders: LoadersFactory, config: AppConfig): ApolloDriverConfig => ({
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    buildSchemaOptions: { scalarsMap: [{ type: Date, scalar: DateTimeScalar }] },
    graphiql: false,
    includeStacktraceInErrorResponses: false,
    introspection: config.graphqlIntrospection,
    allowBatchedHttpRequests: false,
    validationRules: requestLimitRules(REQUEST_LIMITS),
    formatError: formatGraphQLError,
    context: ({ req }: { req: Request }): GqlContext => ({ req, loaders: loaders.create() }),
  }),
});
