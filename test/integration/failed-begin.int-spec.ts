import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { buildOrmOptions } from '../../src/database/mikro-orm.options.js';
import { query, sql } from '../../src/database/sql.js';
import { entities } from '../../src/modules/entities.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * A transaction whose BEGIN fails (its session cut by the server, a fail-over) gives its pool session back.
 * kysely before 0.29.9 kept it for ever: the pool lost one session per failed BEGIN, requests then waited
 * for one that never came, and the pool's end() — the hub's shutdown — waited for ever too (fresh-clone
 * runs: a test hub whose close never ended, one session handed out on which no statement had run).
 */
describe('a transaction whose BEGIN fails', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await MikroORM.init(buildOrmOptions({ clientUrl: db.url, entities, poolMax: 2 }));
    pool = await orm.em.getDriver().getConnection().getNativeClient();
  });

  afterAll(async () => {
    await orm?.close();
    await db?.drop();
  });

  it('gives its session back to the pool, and the pool still serves both of its sessions', async () => {
    // the next session handed out fails its BEGIN once, as a session the server has just cut would
    pool.once('acquire', (client: pg.PoolClient) => {
      const original = client.query.bind(client) as (...args: unknown[]) => unknown;
      let failed = false;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        if (!failed && typeof args[0] === 'string' && /^\s*begin/i.test(args[0])) {
          failed = true;
          return Promise.reject(new Error('Connection terminated unexpectedly'));
        }
        return original(...args);
      };
    });
    await expect(orm.em.fork().transactional(async (em) => query(em, sql`select 1`))).rejects.toThrow(
      'Connection terminated unexpectedly',
    );
    expect({ handedOut: pool.totalCount - pool.idleCount, waiting: pool.waitingCount }).toEqual({ handedOut: 0, waiting: 0 });
    // both sessions of the pool (max 2) can be taken at once
    const answers = await Promise.all(
      [1, 2].map(() => orm.em.fork().transactional(async (em) => query<{ n: number }>(em, sql`select 1 as n, pg_sleep(0.05)`))),
    );
    expect(answers.map((rows) => rows[0].n)).toEqual([1, 1]);
  });
});
