/**
 * The PostgreSQL the tests run on (started once by jest's global setup): an embedded server, or the one at
 * DATABASE_URL, with a migrated template database that createTestDatabase (database.ts) copies.
 */
import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { rm } from 'node:fs/promises';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/database/embedded-postgres.js';
import { entities } from '../../src/modules/entities.js';
import { buildOrmOptions } from '../../src/database/mikro-orm.options.js';
import { ensureDatabase } from '../../src/database/ensure-database.js';

/**
 * The PostgreSQL server for a test run: the one DATABASE_URL points at, or an
 * embedded cluster of the run's own. A template database with every migration
 * applied is made once; each test file copies it (CREATE DATABASE … TEMPLATE).
 */
export interface TestDatabaseServer {
  adminUrl: string;
  template: string;
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function startTestDatabaseServer(databaseUrl: string | undefined): Promise<TestDatabaseServer> {
  let embedded: EmbeddedPostgresHandle | null = null;
  let dataDir: string | null = null;
  let adminUrl: string;
  if (databaseUrl) {
    adminUrl = withDatabase(databaseUrl, 'postgres');
  } else {
    dataDir = `.data/test-pg-${process.pid}`;
    embedded = await startEmbeddedPostgres({ dataDir, port: 0, ephemeral: true });
    adminUrl = embedded.adminUrl;
  }
  const template = `fl_test_template_${process.pid}`;
  await ensureDatabase(adminUrl, template);
  const orm = await MikroORM.init(buildOrmOptions({ entities, clientUrl: withDatabase(adminUrl, template) }));
  try {
    await orm.migrator.up();
  } finally {
    await orm.close();
  }
  return {
    adminUrl,
    template,
    stop: async () => {
      if (embedded) {
        await embedded.stop();
        if (dataDir) await rm(dataDir, { recursive: true, force: true });
      } else {
        const pg = (await import('pg')).default;
        const client = new pg.Client({ connectionString: adminUrl });
        client.on('error', () => undefined); // a lost session rejects the query in flight, which says why
        await client.connect();
        const dbs = await client.query<{ datname: string }>(
          `select datname from pg_database where datname = $1 or datname like $2`,
          [template, `fl_test_${process.pid}_%`],
        );
        for (const { datname } of dbs.rows) await client.query(`drop database if exists "${datname}" with (force)`);
        await client.end();
      }
    },
  };
}
