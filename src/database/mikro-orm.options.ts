import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { entities } from './entities.js';
import { migrationsList } from './migrations/index.js';

export interface OrmOptionsInput {
  clientUrl: string;
  poolMax?: number;
  debug?: boolean;
}

export function buildOrmOptions({ clientUrl, poolMax = 10, debug = false }: OrmOptionsInput) {
  return defineConfig({
    clientUrl,
    entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    pool: { min: 0, max: poolMax },
    debug,
    // the schema comes from migrations only
    ensureDatabase: false,
    allowGlobalContext: false,
    forceUtcTimezone: true,
  });
}
