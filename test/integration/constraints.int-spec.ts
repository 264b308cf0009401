import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * The invariants PostgreSQL itself enforces, whatever the code does: raw SQL
 * that would break one is refused. Every attempt runs in a transaction that
 * is rolled back, so the seeded rows stay the same for the next one.
 */

const NET_A = '0a000000-0000-4000-8000-000000000001';
const NET_B = '0a000000-0000-4000-8000-000000000002';
const SCHEDULER_A = '05000000-0000-4000-8000-000000000001';
const SCHEDULER_B = '05000000-0000-4000-8000-000000000002';
const PROJECT = '0b000000-0000-4000-8000-000000000001';
const MODEL = '0c000000-0000-4000-8000-000000000001';
const MODEL_QUEUED = '0c000000-0000-4000-8000-000000000002';
/** IN_PROGRESS on net A, held by scheduler A */
const JOB_RUNNING_A = '0d000000-0000-4000-8000-000000000001';
/** COMPLETED on net A / net B: each keeps the net it ran on */
const JOB_DONE_A = '0d000000-0000-4000-8000-000000000002';
const JOB_DONE_B = '0d000000-0000-4000-8000-000000000003';
const JOB_QUEUED = '0d000000-0000-4000-8000-000000000004';
const TRUST_1 = '0e000000-0000-4000-8000-000000000001';
const TRUST_2 = '0e000000-0000-4000-8000-000000000002';

const SEED = `
insert into net (id, name, endpoint, fl_backend) values
  ('${NET_A}', 'net-a', 'http://127.0.0.1:9001', 'nvflare'),
  ('${NET_B}', 'net-b', 'http://127.0.0.1:9002', 'nvflare');
insert into project (id, name) values ('${PROJECT}', 'Project');
insert into model (id, name, project_id) values ('${MODEL}', 'Model', '${PROJECT}'), ('${MODEL_QUEUED}', 'Model queued', '${PROJECT}');
insert into job (id, model_id, status, net_id, started_at, claim_token, start_phase) values
  ('${JOB_RUNNING_A}', '${MODEL}', 'IN_PROGRESS', '${NET_A}', now(), gen_random_uuid(), 'RUNNING');
insert into job (id, model_id, status, net_id, started_at, completed_at) values
  ('${JOB_DONE_A}', '${MODEL}', 'COMPLETED', '${NET_A}', now(), now()),
  ('${JOB_DONE_B}', '${MODEL}', 'COMPLETED', '${NET_B}', now(), now());
insert into job (id, model_id) values ('${JOB_QUEUED}', '${MODEL_QUEUED}');
insert into scheduler (id, net_id, status, job_id, lease_until) values
  ('${SCHEDULER_A}', '${NET_A}', 'BUSY', '${JOB_RUNNING_A}', now() + interval '1 minute'),
  ('${SCHEDULER_B}', '${NET_B}', 'AVAILABLE', null, null);
insert into trust (id, name) values ('${TRUST_1}', 'Trust 1'), ('${TRUST_2}', 'Trust 2');
insert into kit_slot (slot_name, slot_number, assigned_trust_id, assigned_at) values
  ('slot-1', 1, '${TRUST_1}', now()),
  ('slot-2', 2, null, null);
`;

interface Violation {
  name: string;
  sql: string;
  /** PostgreSQL error code: 23505 unique, 23514 check, 23503 foreign key */
  code: '23505' | '23514' | '23503';
  constraint: string;
}

const IN_PROGRESS_ON_A = `status = 'IN_PROGRESS', net_id = '${NET_A}', started_at = now(), claim_token = gen_random_uuid(), start_phase = 'CLAIMED'`;

const VIOLATIONS: Violation[] = [
  // schedulers
  {
    name: 'an AVAILABLE scheduler holding a job',
    sql: `update scheduler set job_id = '${JOB_DONE_B}' where id = '${SCHEDULER_B}'`,
    code: '23514',
    constraint: 'scheduler_available_is_free',
  },
  {
    name: 'an AVAILABLE scheduler holding a lease',
    sql: `update scheduler set lease_until = now() + interval '1 minute' where id = '${SCHEDULER_B}'`,
    code: '23514',
    constraint: 'scheduler_available_is_free',
  },
  {
    name: 'an AVAILABLE scheduler waiting for a sweep',
    sql: `update scheduler set sweep_pending = true where id = '${SCHEDULER_B}'`,
    code: '23514',
    constraint: 'scheduler_available_is_free',
  },
  {
    name: 'a scheduler set AVAILABLE while it still holds its job',
    sql: `update scheduler set status = 'AVAILABLE' where id = '${SCHEDULER_A}'`,
    code: '23514',
    constraint: 'scheduler_available_is_free',
  },
  {
    name: 'a BUSY scheduler with neither job nor lease',
    sql: `update scheduler set status = 'BUSY' where id = '${SCHEDULER_B}'`,
    code: '23514',
    constraint: 'scheduler_busy_is_held',
  },
  {
    name: 'a BUSY scheduler losing its job and lease',
    sql: `update scheduler set job_id = null, lease_until = null where id = '${SCHEDULER_A}'`,
    code: '23514',
    constraint: 'scheduler_busy_is_held',
  },
  {
    name: 'a scheduler status outside AVAILABLE/BUSY',
    sql: `update scheduler set status = 'PAUSED' where id = '${SCHEDULER_B}'`,
    code: '23514',
    constraint: 'scheduler_status_check',
  },
  {
    name: 'two schedulers for one net',
    sql: `insert into scheduler (net_id) values ('${NET_A}')`,
    code: '23505',
    constraint: 'scheduler_net_unique',
  },
  {
    name: 'two schedulers holding one job',
    sql: `update scheduler set status = 'BUSY', job_id = '${JOB_RUNNING_A}' where id = '${SCHEDULER_B}'`,
    code: '23505',
    constraint: 'scheduler_job_unique',
  },
  // jobs
  {
    name: 'two IN_PROGRESS jobs on one net',
    sql: `update job set ${IN_PROGRESS_ON_A} where id = '${JOB_QUEUED}'`,
    code: '23505',
    constraint: 'job_one_in_progress_per_net',
  },
  {
    name: 'a second live job of a model (one QUEUED or IN_PROGRESS job per model)',
    sql: `insert into job (model_id) values ('${MODEL}')`,
    code: '23505',
    constraint: 'job_one_live_per_model',
  },
  {
    name: 'an end reason on a job that has not ended DELETED',
    sql: `update job set end_reason = 'REMOVED' where id = '${JOB_DONE_A}'`,
    code: '23514',
    constraint: 'job_end_reason_deleted_check',
  },
  {
    name: 'an IN_PROGRESS job without a net',
    sql: `update job set status = 'IN_PROGRESS', started_at = now(), claim_token = gen_random_uuid(), start_phase = 'CLAIMED' where id = '${JOB_QUEUED}'`,
    code: '23514',
    constraint: 'job_in_progress_check',
  },
  {
    name: 'an IN_PROGRESS job without a claim token',
    sql: `update job set claim_token = null where id = '${JOB_RUNNING_A}'`,
    code: '23514',
    constraint: 'job_in_progress_check',
  },
  {
    name: 'a QUEUED job on a net',
    sql: `update job set net_id = '${NET_B}' where id = '${JOB_QUEUED}'`,
    code: '23514',
    constraint: 'job_queued_check',
  },
  {
    name: 'a COMPLETED job without completedAt',
    sql: `update job set completed_at = null where id = '${JOB_DONE_A}'`,
    code: '23514',
    constraint: 'job_completed_check',
  },
  {
    name: 'a job status outside the four',
    sql: `update job set status = 'RUNNING' where id = '${JOB_QUEUED}'`,
    code: '23514',
    constraint: 'job_status_check',
  },
  // nets
  {
    name: 'a duplicate net name',
    sql: `insert into net (name, endpoint, fl_backend) values ('net-a', 'http://127.0.0.1:9003', 'nvflare')`,
    code: '23505',
    constraint: 'net_name_unique',
  },
  {
    name: 'a duplicate net endpoint',
    sql: `insert into net (name, endpoint, fl_backend) values ('net-c', 'http://127.0.0.1:9001', 'flower')`,
    code: '23505',
    constraint: 'net_endpoint_unique',
  },
  {
    name: 'an unknown FL backend',
    sql: `update net set fl_backend = 'pysyft' where id = '${NET_B}'`,
    code: '23514',
    constraint: 'net_fl_backend_check',
  },
  // trusts and kit slots
  {
    name: 'a trust bound to two kit slots',
    sql: `update kit_slot set assigned_trust_id = '${TRUST_1}', assigned_at = now() where slot_name = 'slot-2'`,
    code: '23505',
    constraint: 'kit_slot_trust_unique',
  },
  {
    name: 'a kit slot assigned without assignedAt',
    sql: `update kit_slot set assigned_trust_id = '${TRUST_2}' where slot_name = 'slot-2'`,
    code: '23514',
    constraint: 'kit_slot_assignment_check',
  },
  {
    name: 'a duplicate trust name',
    sql: `insert into trust (name) values ('Trust 1')`,
    code: '23505',
    constraint: 'trust_name_unique',
  },
  // cohort queries
  {
    name: 'an empty cohort query',
    sql: `insert into cohort_query (project_id, name, query) values ('${PROJECT}', 'c', '')`,
    code: '23514',
    constraint: 'cohort_query_length_check',
  },
  {
    name: 'a cohort query over 65536 characters',
    sql: `insert into cohort_query (project_id, name, query) values ('${PROJECT}', 'c', repeat('q', 65537))`,
    code: '23514',
    constraint: 'cohort_query_length_check',
  },
];

/**
 * Runs `statements` in a transaction with every deferred constraint checked
 * at once (SET CONSTRAINTS ALL IMMEDIATE), then rolls back whatever happens.
 */
async function attempt(pool: pg.Pool, ...statements: string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    for (const statement of statements) await client.query(statement);
    await client.query('set constraints all immediate');
  } finally {
    await client.query('rollback');
    client.release();
  }
}

/** Digest of the rows the attempts touch: the same before and after proves nothing was left behind. */
async function digest(pool: pg.Pool): Promise<string> {
  const tables = ['net', 'scheduler', 'job', 'trust', 'kit_slot', 'cohort_query'];
  const parts = await Promise.all(
    tables.map(
      async (table) =>
        (await pool.query<{ d: string | null }>(`select md5(string_agg(t::text, '|' order by t::text)) as d from ${table} t`))
          .rows[0].d,
    ),
  );
  return parts.join(',');
}

describe('database constraints', () => {
  let db: TestDatabase;
  let seeded: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(SEED);
    seeded = await digest(db.pool);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('accepts valid states: a BUSY net holding its own running job, a net held by a lease alone, a net taking its next job', async () => {
    const schedulers = await db.pool.query<{ status: string; jobId: string | null }>(
      'select status, job_id as "jobId" from scheduler order by id',
    );
    expect(schedulers.rows).toEqual([
      { status: 'BUSY', jobId: JOB_RUNNING_A },
      { status: 'AVAILABLE', jobId: null },
    ]);
    // a claim lease alone holds a BUSY net, and a net may take a new job once the old one ended
    await expect(
      attempt(
        db.pool,
        `update scheduler set status = 'BUSY', lease_until = now() + interval '1 minute' where id = '${SCHEDULER_B}'`,
      ),
    ).resolves.toBeUndefined();
    await expect(
      attempt(
        db.pool,
        `update job set status = 'COMPLETED', completed_at = now() where id = '${JOB_RUNNING_A}'`,
        `update job set ${IN_PROGRESS_ON_A} where id = '${JOB_QUEUED}'`,
        `update scheduler set job_id = '${JOB_QUEUED}' where id = '${SCHEDULER_A}'`,
      ),
    ).resolves.toBeUndefined();
  });

  it.each(VIOLATIONS.map((v) => [v.name, v] as const))('refuses %s', async (_name, violation) => {
    await expect(attempt(db.pool, violation.sql)).rejects.toMatchObject({
      code: violation.code,
      constraint: violation.constraint,
    });
    expect(await digest(db.pool)).toBe(seeded);
  });

  describe('a scheduler’s job runs on that scheduler’s net (composite foreign key, deferred to commit)', () => {
    it.each([
      ['a job that ran on another net', JOB_DONE_A],
      ['a QUEUED job on no net at all', JOB_QUEUED],
    ])('accepts the statement pointing at %s, then refuses the commit', async (_label, jobId) => {
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        // deferred: the statement itself goes through…
        await expect(
          client.query(
            `update scheduler set status = 'BUSY', job_id = $1, lease_until = now() + interval '1 minute' where id = $2`,
            [jobId, SCHEDULER_B],
          ),
        ).resolves.toMatchObject({ rowCount: 1 });
        // …and the commit is refused
        await expect(client.query('commit')).rejects.toMatchObject({ code: '23503', constraint: 'scheduler_job_on_own_net_fk' });
      } finally {
        client.release();
      }
      expect(await digest(db.pool)).toBe(seeded);
    });

    it('refuses moving a held job to another net', async () => {
      await expect(
        attempt(
          db.pool,
          `update job set status = 'COMPLETED', completed_at = now(), net_id = '${NET_B}' where id = '${JOB_RUNNING_A}'`,
        ),
      ).rejects.toMatchObject({ code: '23503', constraint: 'scheduler_job_on_own_net_fk' });
    });

    it('lets a transaction pass through an inconsistent state as long as it commits a consistent one', async () => {
      await expect(
        attempt(
          db.pool,
          `update scheduler set status = 'BUSY', job_id = '${JOB_QUEUED}', lease_until = now() + interval '1 minute' where id = '${SCHEDULER_B}'`,
          `update job set status = 'IN_PROGRESS', net_id = '${NET_B}', started_at = now(), claim_token = gen_random_uuid(), start_phase = 'CLAIMED' where id = '${JOB_QUEUED}'`,
        ),
      ).resolves.toBeUndefined();
    });
  });
});
