import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import type { EntityClass } from '@mikro-orm/core';
import { migrationsList } from './migrations/index.js';
import { PreparingClient } from './prepared-statements.js';

export interface OrmOptionsInput {
  clientUrl: string;
  /** the entity classes (the modules own them; the database layer only wires them) */
  entities: readonly EntityClass<object>[];
  poolMax?: number;
  debug?: boolean;
  /** the sessions' `application_name` (which hub instance a session belongs to) */
  applicationName?: string;
  /** run the hub's statements as named prepared statements (see PreparingClient) */
  preparedStatements?: boolean;
}

export function buildOrmOptions({
  clientUrl,
  entities,
  poolMax = 10,
  debug = false,
  applicationName = 'fl-scheduler',
  preparedStatements = false,
}: OrmOptionsInput) {
  return defineConfig({
    clientUrl,
    entities: [...entities],
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    pool: { min: 0, max: poolMax },
    driverOptions: { application_name: applicationName, ...(preparedStatements ? { Client: PreparingClient } : {}) },
    debug,
    // the schema comes from migrations only
    ensureDatabase: false,
    allowGlobalContext: false,
    forceUtcTimezone: true,
  });
}
