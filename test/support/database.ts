import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from './test-database-server.js';

/** A fresh database for one test file, copied from the migrated template. */
export interface TestDatabase {
  url: string;
  /** A pg pool on it, for setting up and inspecting rows directly. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

function testEnv(name: 'FL_TEST_ADMIN_URL' | 'FL_TEST_TEMPLATE'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (npm test), whose global setup starts PostgreSQL`);
  return value;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = testEnv('FL_TEST_ADMIN_URL');
  const template = testEnv('FL_TEST_TEMPLATE');
  const name = `fl_test_${template.split('_').pop()}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}" template "${template}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    url,
    pool,
    drop: async () => {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
