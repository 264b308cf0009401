import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MAX_PREPARED_PER_CONNECTION, PreparingClient } from '../../src/database/prepared-statements.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** What this session has prepared, as PostgreSQL sees it. */
async function preparedOn(client: PreparingClient): Promise<Array<{ name: string; statement: string }>> {
  // `::text` keeps the text stable for the checks; the query is itself named (and listed) after its first run
  const { rows } = await client.query<{ name: string; statement: string }>(
    'select name, statement::text from pg_prepared_statements order by prepare_time',
    [],
  );
  return rows;
}

describe('PreparingClient (named prepared statements)', () => {
  let db: TestDatabase;
  let client: PreparingClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new PreparingClient({ connectionString: db.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('prepares a parameterised statement once per session and reuses it, with the right answers', async () => {
    const text = 'select $1::int * 2 as doubled';
    const answers: number[] = [];
    for (const n of [1, 2, 3]) answers.push((await client.query<{ doubled: number }>(text, [n])).rows[0].doubled);
    expect(answers).toEqual([2, 4, 6]);
    const prepared = (await preparedOn(client)).filter((p) => p.statement === text);
    expect(prepared).toHaveLength(1);
    expect(prepared[0].name).toMatch(/^fl_/);
  });

  it('leaves transaction control and settings unnamed, and transactions work across named statements', async () => {
    await client.query('begin');
    await client.query('create temporary table t (v int) on commit drop');
    await client.query('insert into t values ($1)', [7]);
    const { rows } = await client.query<{ v: number }>('select v from t where v = $1', [7]);
    await client.query('commit');
    expect(rows).toEqual([{ v: 7 }]);
    const statements = (await preparedOn(client)).map((p) => p.statement.trim().toLowerCase());
    expect(statements.some((s) => s.startsWith('begin') || s.startsWith('commit') || s.startsWith('create'))).toBe(false);
  });

  it('runs a text of several statements (a migration) as given, unnamed', async () => {
    await client.query('create temporary table t2 (v int)');
    const results = (await client.query(
      'insert into t2 values (1); insert into t2 values (2); select count(*)::int as n from t2',
      [],
    )) as unknown as Array<{
      rows: Array<{ n: number }>;
    }>;
    expect(results.at(-1)?.rows).toEqual([{ n: 2 }]);
    expect((await preparedOn(client)).some((p) => p.statement.includes('t2'))).toBe(false);
  });

  it('prepares a statement whose only `;` is in a `--` comment, and still runs several statements with comments as given', async () => {
    // the hub's start confirmation and lease recovery carry such comments: before, they were parsed and planned every time
    const text = 'select $1::int + 1 as n -- one; not two\n  , 2 as m';
    for (const n of [1, 2]) expect((await client.query<{ n: number; m: number }>(text, [n])).rows).toEqual([{ n: n + 1, m: 2 }]);
    expect((await preparedOn(client)).filter((p) => p.statement === text)).toHaveLength(1);

    await client.query('create temporary table t3 (v int)');
    const several = 'insert into t3 values (1); -- first; then\n insert into t3 values (2)';
    await client.query(several, []);
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from t3', []);
    expect(rows).toEqual([{ n: 2 }]);
    expect((await preparedOn(client)).some((p) => p.statement.includes('t3 values'))).toBe(false);
  });

  it(`runs statements unnamed once ${MAX_PREPARED_PER_CONNECTION} are prepared on the session, still answering`, async () => {
    const before = (await preparedOn(client)).length;
    for (let i = 0; i < MAX_PREPARED_PER_CONNECTION + 10; i++) {
      const { rows } = await client.query<{ n: number }>(`select $1::int + ${i} as n`, [1]);
      expect(rows[0].n).toBe(1 + i);
    }
    const after = (await preparedOn(client)).length;
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThanOrEqual(MAX_PREPARED_PER_CONNECTION);
    expect(client.prepared.size).toBeLessThanOrEqual(MAX_PREPARED_PER_CONNECTION);
  });
});
