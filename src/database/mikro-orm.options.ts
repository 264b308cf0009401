import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { entities } from './entities.js';
import { migrationsList } from './migrations/index.js';
import { PreparingClient } from './prepared-statements.js';

export interface OrmOptionsInput {
  clientUrl: string;
  poolMax?: number;
  debug?: boolean;
  /** the sessions' `application_name` (which hub instance a session belongs to) */
  applicationName?: string;
  /** run the hub's statements as named prepared statements (see PreparingClient) */
  preparedStatements?: boolean;
  /** told when an idle pooled session is lost (terminated, timed out, a server restart); the pool replaces it */
  onConnectionError?: (message: string) => void;
}

/**
 * An idle pooled session cut by the server (pg_terminate_backend, an idle-session timeout, a restart) is
 * reported on the pool, which has already dropped it: the next acquire connects a new one. (MikroORM also
 * listens, on the pool and on every session, but logs only under its `info` debug namespace.)
 */
function watchPool(onConnectionError: (message: string) => void): (pool: pg.Pool) => void {
  return (pool) => {
    pool.on('error', (error) => onConnectionError(`an idle database session was lost (the pool replaces it): ${error.message}`));
  };
}

export function buildOrmOptions({
  clientUrl,
  poolMax = 10,
  debug = false,
  applicationName = 'fl-scheduler',
  preparedStatements = false,
  onConnectionError = () => undefined,
}: OrmOptionsInput) {
  return defineConfig({
    clientUrl,
    entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    pool: { min: 0, max: poolMax },
    driverOptions: {
      application_name: applicationName,
      onPoolCreated: watchPool(onConnectionError),
      ...(preparedStatements ? { Client: PreparingClient } : {}),
    },
    debug,
    // the schema comes from migrations only
    ensureDatabase: false,
    allowGlobalContext: false,
    forceUtcTimezone: true,
  });
}
