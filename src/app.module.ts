import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AuditInterceptor } from './common/auth/audit.interceptor.js';
import { AuthGuard } from './common/auth/auth.guard.js';
import { TokenVerifier } from './common/auth/token-verifier.js';
import { DomainErrorFilter } from './common/domain-error.filter.js';
import { PickupSignal } from './common/pickup-signal.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { DatabaseModule } from './database/database.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { loggerModule } from './observability/logging.js';
import { GraphqlApiModule } from './graphql/graphql-api.module.js';
import { entities } from './modules/entities.js';
import { JobsModule } from './modules/jobs/jobs.module.js';
import { ModelsModule } from './modules/models/models.module.js';
import { NetsModule } from './modules/nets/nets.module.js';
import { SchedulersModule } from './modules/schedulers/schedulers.module.js';
import { TrustsModule } from './modules/trusts/trusts.module.js';

@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, PickupSignal, TokenVerifier],
      exports: [APP_CONFIG, PickupSignal, TokenVerifier],
    };
  }
}

@Module({})
export class AppModule {
  /** The whole hub for a validated configuration and a reachable database. */
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config),
        loggerModule(config),
        ObservabilityModule,
        HealthModule,
        DatabaseModule.forRoot(databaseUrl, {
          entities,
          poolMax: config.dbPoolMax,
          preparedStatements: config.dbPreparedStatements,
        }),
        ScheduleModule.forRoot(),
        EventsModule,
        GraphqlApiModule,
        NetsModule,
        SchedulersModule,
        JobsModule,
        TrustsModule,
        ModelsModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
      ],
    };
  }
}
