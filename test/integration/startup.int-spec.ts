import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrationsList } from '../../src/database/migrations/index.js';
import { dropDatabase, testPool } from '../support/database.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { withDatabase } from '../support/test-database-server.js';

/** Start-up on an EMPTY database (no template): migrations and seeding, by two instances at once. */
describe('two instances starting at once on one empty database', () => {
  const adminUrl = process.env.FL_TEST_ADMIN_URL as string;
  const name = `fl_test_empty_${randomBytes(6).toString('hex')}`;
  let url: string;
  let pool: pg.Pool;
  const hubs: TestHub[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    url = withDatabase(adminUrl, name);
    pool = testPool({ connectionString: url, max: 2 });
  });

  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.close()));
    await pool.end();
    await dropDatabase(url);
  });

  it('migrates once, seeds once, and both serve', async () => {
    const overrides = {
      netEndpoints: [
        { name: 'net-1', endpoint: 'http://127.0.0.1:18001' },
        { name: 'net-2', endpoint: 'http://127.0.0.1:18002' },
      ],
      kitSlots: ['site-1', 'site-2', 'site-3'],
      flBackend: 'flower' as const,
    };
    hubs.push(...(await Promise.all([startTestHub(url, overrides), startTestHub(url, overrides)])));

    const migrations = await pool.query('select name from mikro_orm_migrations order by id');
    expect(migrations.rows).toEqual(migrationsList.map(({ name }) => ({ name })));
    const nets = await pool.query(
      'select n.name, n.fl_backend, s.status from net n join scheduler s on s.net_id = n.id order by n.name',
    );
    expect(nets.rows).toEqual([
      { name: 'net-1', fl_backend: 'flower', status: 'AVAILABLE' },
      { name: 'net-2', fl_backend: 'flower', status: 'AVAILABLE' },
    ]);
    const slots = await pool.query('select slot_name, slot_number from kit_slot order by slot_number');
    expect(slots.rows).toEqual([
      { slot_name: 'site-1', slot_number: 1 },
      { slot_name: 'site-2', slot_number: 2 },
      { slot_name: 'site-3', slot_number: 3 },
    ]);
    for (const hub of hubs) {
      const { nets: served } = await hub.gqlOk('{ nets { name flBackend scheduler { status } } }');
      expect(served).toHaveLength(2);
    }
  });

  it('re-seeding is an upsert by name: a moved endpoint is updated, new slots are appended', async () => {
    const hub = await startTestHub(url, {
      netEndpoints: [
        { name: 'net-1', endpoint: 'http://127.0.0.1:18011' },
        { name: 'net-3', endpoint: 'http://127.0.0.1:18003' },
      ],
      kitSlots: ['site-4', 'site-1'],
    });
    hubs.push(hub);
    const nets = await pool.query('select n.name, n.endpoint from net n order by n.name');
    expect(nets.rows).toEqual([
      { name: 'net-1', endpoint: 'http://127.0.0.1:18011' },
      { name: 'net-2', endpoint: 'http://127.0.0.1:18002' },
      { name: 'net-3', endpoint: 'http://127.0.0.1:18003' },
    ]);
    expect((await pool.query('select count(*)::int as n from scheduler')).rows[0].n).toBe(3);
    const slots = await pool.query('select slot_name, slot_number from kit_slot order by slot_number');
    expect(slots.rows.at(-1)).toEqual({ slot_name: 'site-4', slot_number: 4 });
  });
});
