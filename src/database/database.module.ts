import { MikroOrmModule } from '@mikro-orm/nestjs';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DatabaseBootstrapService } from './database-bootstrap.service.js';
import { DATABASE_URL, HUB_INSTANCE_NAME, newHubInstanceName } from './database.tokens.js';
import { buildOrmOptions } from './mikro-orm.options.js';

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(databaseUrl: string, options: { poolMax?: number; preparedStatements?: boolean } = {}): DynamicModule {
    const instanceName = newHubInstanceName();
    return {
      module: DatabaseModule,
      imports: [
        MikroOrmModule.forRoot({
          ...buildOrmOptions({
            clientUrl: databaseUrl,
            poolMax: options.poolMax,
            applicationName: instanceName,
            preparedStatements: options.preparedStatements,
          }),
          registerRequestContext: true,
        }),
      ],
      providers: [
        { provide: DATABASE_URL, useValue: databaseUrl },
        { provide: HUB_INSTANCE_NAME, useValue: instanceName },
        DatabaseBootstrapService,
      ],
      exports: [DATABASE_URL, HUB_INSTANCE_NAME],
    };
  }
}
