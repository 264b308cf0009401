import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import type pg from 'pg';
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
  /** told when an idle pooled session is lost (terminated, timed out, a server restart); the pool replaces it */
  onConnectionError?: (message: string) => void;
}

/**
 * Exempts a session from a server-side `idle_session_timeout` and returns the timeout it had (0: none; no
 * row before PostgreSQL 14). The pool drops its own idle sessions; a server cutting them too races the pool
 * handing one out (PostgreSQL's docs advise against that timeout for pools).
 */
export const IDLE_TIMEOUT_EXEMPTION = `select setting::int as ms, set_config(name, '0', false) from pg_settings where name = 'idle_session_timeout'`;

/**
 * An idle pooled session cut by the server (pg_terminate_backend, a restart) is reported on the pool, which
 * has already dropped it: the next acquire connects a new one. (MikroORM also listens, on the pool and on
 * every session, but logs only under its `info` debug namespace.) New sessions are exempted from an idle
 * timeout while the server has one: one statement on the first session, none on later ones when it has none.
 */
function watchPool(onConnectionError: (message: string) => void): (pool: pg.Pool) => void {
  return (pool) => {
    let serverTimeoutMs: number | null = null; // unknown until a session has asked
    pool.on('error', (error) => onConnectionError(`an idle database session was lost (the pool replaces it): ${error.message}`));
    pool.on('connect', (client) => {
      if (serverTimeoutMs === 0) return;
      // queued before any statement of whoever acquired the session, so it runs first
      client
        .query<{ ms: number }>(IDLE_TIMEOUT_EXEMPTION)
        .then(({ rows }) => (serverTimeoutMs = rows[0]?.ms ?? 0))
        .catch(() => undefined); // a session lost this early fails its first statement, which says why
    });
  };
}

export function buildOrmOptions({
  clientUrl,
  entities,
  poolMax = 10,
  debug = false,
  applicationName = 'fl-scheduler',
  preparedStatements = false,
  onConnectionError = () => undefined,
}: OrmOptionsInput) {
  return defineConfig({
    clientUrl,
    entities: [...entities],
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
