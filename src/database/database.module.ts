import { MikroOrmModule } from '@mikro-orm/nestjs';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DatabaseBootstrapService } from './database-bootstrap.service.js';
import { DATABASE_URL } from './database.tokens.js';
import { buildOrmOptions } from './mikro-orm.options.js';

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(databaseUrl: string, options: { poolMax?: number } = {}): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        MikroOrmModule.forRoot({
          ...buildOrmOptions({ clientUrl: databaseUrl, poolMax: options.poolMax }),
          registerRequestContext: true,
        }),
      ],
      providers: [{ provide: DATABASE_URL, useValue: databaseUrl }, DatabaseBootstrapService],
      exports: [DATABASE_URL],
    };
  }
}
