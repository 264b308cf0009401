import { EntityManager, MikroORM, RequestContext } from '@mikro-orm/postgresql';
import {
  type DynamicModule,
  Global,
  Inject,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
  RequestMethod,
} from '@nestjs/common';
import { DatabaseBootstrapService } from './database-bootstrap.service.js';
import { DATABASE_URL, HUB_INSTANCE_NAME, newHubInstanceName } from './database.tokens.js';
import { buildOrmOptions, type OrmOptionsInput } from './mikro-orm.options.js';

/**
 * MikroORM in Nest, directly: the ORM (initialised once, closed at shutdown,
 * after the cycles have drained), its EntityManager, and a request context
 * per HTTP request. `@mikro-orm/nestjs` does the same and more, but is
 * released on its own train (7.1.0) while the project keeps every
 * `@mikro-orm/*` package at one exact version.
 */
@Global()
@Module({})
export class DatabaseModule implements NestModule, OnApplicationShutdown {
  constructor(@Inject(MikroORM) private readonly orm: MikroORM) {}

  static forRoot(
    databaseUrl: string,
    options: Pick<OrmOptionsInput, 'entities' | 'poolMax' | 'preparedStatements'>,
  ): DynamicModule {
    const instanceName = newHubInstanceName();
    const logger = new Logger('MikroORM');
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: MikroORM,
          useFactory: () =>
            MikroORM.init({
              ...buildOrmOptions({
                clientUrl: databaseUrl,
                entities: options.entities,
                poolMax: options.poolMax,
                applicationName: instanceName,
                preparedStatements: options.preparedStatements,
                onConnectionError: (message) => logger.warn(message),
              }),
              logger: (message: string) => logger.log(message),
            }),
        },
        { provide: EntityManager, useFactory: (orm: MikroORM) => orm.em, inject: [MikroORM] },
        { provide: DATABASE_URL, useValue: databaseUrl },
        { provide: HUB_INSTANCE_NAME, useValue: instanceName },
        DatabaseBootstrapService,
      ],
      exports: [MikroORM, EntityManager, DATABASE_URL, HUB_INSTANCE_NAME],
    };
  }

  /** Each request works in an identity map of its own. */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((_request: unknown, _response: unknown, next: () => void) => RequestContext.create(this.orm.em, next))
      .forRoutes({ path: '{*all}', method: RequestMethod.ALL });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.orm.close();
  }
}
