import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import { HUB_INSTANCE_NAME } from '../../src/database/database.tokens.js';
import { oneTripTransaction } from '../../src/database/one-trip-transaction.js';
import { sql } from '../../src/database/sql.js';
import { CLAIM_LOCK_KEY } from '../../src/modules/schedulers/net-state/claim-lock.js';
import { ClaimService } from '../../src/modules/schedulers/picking-up/claim.service.js';
import { useNetHub } from '../support/net-hub.js';
import { until } from '../support/wait.js';

/**
 * The cycle's claim in one round trip (`oneTripTransaction`): `begin`, a try
 * at the claim lock, the claim statement (prepared on the session), `commit`,
 * as one message. When another claim holds the lock, the claim statement
 * takes nothing and the claim waits for its turn in a transaction of its own,
 * then counts what the holder committed.
 */

const SLOTS = ['site-1', 'site-2'];
const QUEUE = `mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }`;

/** The text of every message the hub's sessions send while `work` runs. */
async function messagesDuring<T>(work: () => Promise<T>): Promise<{ result: T; texts: string[] }> {
  const spy = jest.spyOn(pg.Client.prototype, 'query');
  try {
    const result = await work();
    const texts = spy.mock.calls.map(([config]: unknown[]) =>
      typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? ''),
    );
    return { result, texts };
  } finally {
    spy.mockRestore();
  }
}

describe.each(['fair', 'fifo'] as const)('the cycle claim in one round trip (DISPATCH_ORDER=%s)', (dispatchOrder) => {
  const f = useNetHub({
    nets: [{ name: 'net-1' }, { name: 'net-2' }],
    kitSlots: SLOTS,
    trusts: 2,
    hub: { dispatchOrder, dbPoolMax: 2 },
  });
  afterEach(() => f.reset());

  const queueJob = async (trustIds = f.s.trustIds) =>
    (
      await f.hub.gqlOk<{ queueTraining: { id: string } }>(QUEUE, {
        m: await f.s.newModel(undefined, f.s.trustIds),
        t: trustIds,
      })
    ).queueTraining.id;

  it('a free turn: one message claims the job and holds its net, on a statement the session prepared once', async () => {
    const claims = f.hub.app.get(ClaimService);
    const first = await queueJob();
    const one = await messagesDuring(() => claims.claimBatch());
    expect(one.result.map((c) => c.job.id)).toEqual([first]);
    // the first claim on a session prepares its statement; the claim itself is one message
    const claimMessages = one.texts.filter((t) => t.includes('lifecycle:claimNextJobs'));
    expect(claimMessages.filter((t) => t.startsWith('begin;'))).toHaveLength(1);
    expect(claimMessages.every((t) => t.startsWith('begin;') || t.startsWith('prepare fl_trip_'))).toBe(true);

    // the next claims on the same sessions: one message each, nothing prepared again
    const second = await queueJob();
    const two = await messagesDuring(() => claims.claimBatch());
    expect(two.result.map((c) => c.job.id)).toEqual([second]);
    const nothing = await messagesDuring(() => claims.claimBatch());
    expect(nothing.result).toEqual([]);
    for (const run of [two, nothing]) {
      const sent = run.texts.filter(
        (t) => t.includes('lifecycle:claimNextJobs') || /^(begin|commit|select pg_advisory)/i.test(t),
      );
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^begin; select t\.turn/);
      expect(sent[0]).toMatch(/; commit$/);
    }

    const { rows } = await f.db.pool.query<{ status: string; job: string | null }>(
      `select s.status, s.job_id::text as job from scheduler s join net n on n.id = s.net_id order by n.name`,
    );
    expect(rows.map((r) => r.status)).toEqual(['BUSY', 'BUSY']);
    expect(new Set(rows.map((r) => r.job))).toEqual(new Set([first, second]));
    const { rows: jobs } = await f.db.pool.query<{ status: string; phase: string; token: boolean }>(
      `select status, start_phase as phase, claim_token is not null as token from job where id = any($1) order by seq`,
      [[first, second]],
    );
    expect(jobs).toEqual([
      { status: 'IN_PROGRESS', phase: 'CLAIMED', token: true },
      { status: 'IN_PROGRESS', phase: 'CLAIMED', token: true },
    ]);
    // nothing is left open on the hub's sessions
    const { rows: open } = await f.db.pool.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where application_name = $1 and state like 'idle in transaction%'`,
      [f.hub.app.get<string>(HUB_INSTANCE_NAME)],
    );
    expect(open[0].n).toBe(0);
  });

  it('a turn held by another claim: the claim waits for it, then counts the job the holder committed (a trust at its cap)', async () => {
    const [trust] = f.s.trustIds;
    await f.hub.gqlOk('mutation($t: ID!) { setTrustLimit(trustId: $t, maxConcurrentJobs: 1) { id } }', { t: trust });
    const held = await queueJob([trust]);
    const waiting = await queueJob([trust]);
    const other = new pg.Client({ connectionString: f.db.url });
    await other.connect();
    try {
      // another instance's claim: the lock, then `held` put on net-1, committed only once our claim waits
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock($1)', [CLAIM_LOCK_KEY]);
      await other.query(
        `with j as (update job set status = 'IN_PROGRESS', start_phase = 'CLAIMED', claim_token = gen_random_uuid(),
                      started_at = now(), attempts = attempts + 1,
                      net_id = (select id from net where name = 'net-1') where id = $1 returning id, net_id)
         update scheduler s set status = 'BUSY', job_id = j.id, lease_until = now() + interval '1 minute'
         from j where s.net_id = j.net_id`,
        [held],
      );
      const claim = f.hub.app.get(ClaimService).claimBatch();
      // the claim's one trip found the turn taken and claimed nothing; now it waits for the lock
      await until(
        async () => {
          const { rows } = await other.query<{ n: number }>(
            `select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = $1 and not granted`,
            [CLAIM_LOCK_KEY],
          );
          return rows[0].n === 1;
        },
        { what: "the claim waiting for the other claim's lock" },
      );
      const { rows: meanwhile } = await other.query<{ status: string }>(`select status from job where id = $1`, [waiting]);
      expect(meanwhile[0].status).toBe('QUEUED');
      await other.query('commit');
      // the trust runs `held` now: `waiting` may not start although net-2 is free
      expect(await claim).toEqual([]);
    } finally {
      await other.end();
    }
    const { rows } = await f.db.pool.query<{ id: string; status: string }>(
      `select id::text, status from job where id = any($1)`,
      [[held, waiting]],
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({ [held]: 'IN_PROGRESS', [waiting]: 'QUEUED' });
    const { rows: nets } = await f.db.pool.query<{ name: string; status: string }>(
      `select n.name, s.status from scheduler s join net n on n.id = s.net_id order by n.name`,
    );
    expect(nets).toEqual([
      { name: 'net-1', status: 'BUSY' },
      { name: 'net-2', status: 'AVAILABLE' },
    ]);
    await f.hub.gqlOk('mutation($t: ID!) { setTrustLimit(trustId: $t, maxConcurrentJobs: null) { id } }', { t: trust });
  });

  it('a session that lost the claim statement (DEALLOCATE) prepares it again and claims in the same call', async () => {
    const claims = f.hub.app.get(ClaimService);
    await queueJob();
    expect(await claims.claimBatch()).toHaveLength(1);
    // every session of the hub forgets the claim's statement (what an operator's DEALLOCATE does)
    const pool = await f.hub.app.get(EntityManager).getConnection().getNativeClient();
    const sessions = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
    let forgotten = 0;
    for (const session of sessions) {
      const { rows } = await session.query<{ name: string }>(
        `select name from pg_prepared_statements where name like 'fl_trip_%'`,
      );
      for (const { name } of rows) await session.query(`deallocate ${name}`);
      forgotten += rows.length;
    }
    for (const session of sessions) session.release();
    expect(forgotten).toBe(1);
    const next = await queueJob();
    const again = await messagesDuring(() => claims.claimBatch());
    expect(again.result.map((c) => c.job.id)).toEqual([next]);
    // the one trip failed on the missing statement, was rolled back, prepared again and sent once more
    const claimMessages = again.texts.filter((t) => t.includes('lifecycle:claimNextJobs'));
    expect(claimMessages.map((t) => t.slice(0, 8))).toEqual(['begin; s', 'prepare ', 'begin; s']);
    const { rows: jobs } = await f.db.pool.query<{ status: string }>(`select status from job where id = $1`, [next]);
    expect(jobs[0].status).toBe('IN_PROGRESS');
  });
});

describe('a one-trip transaction whose statement fails', () => {
  const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS, trusts: 1, hub: { dbPoolMax: 1 } });
  afterEach(() => f.reset());

  it('is rolled back whole, raises the error, and leaves its session usable', async () => {
    const em = f.hub.app.get(EntityManager).fork();
    const prelude = `with d as (update net set drained = true where name = 'net-1' returning 1) select count(*)::int as n from d`;
    const failing = sql<{ x: number }>`select 1 / (${0}::int) as x /* test:failing */`.compile(em.getKysely());
    await expect(oneTripTransaction(em, prelude, failing)).rejects.toMatchObject({ code: '22012' });
    // the prelude's write went with the transaction
    const { rows } = await f.db.pool.query<{ drained: boolean }>(`select drained from net where name = 'net-1'`);
    expect(rows[0].drained).toBe(false);
    // the one session of the pool is back, out of any transaction, and runs the next one
    const fine = sql<{ x: number }>`select ${41}::int + 1 as x /* test:fine */`.compile(em.getKysely());
    const next = await oneTripTransaction<{ n: number }, { x: number }>(em, 'select 0 as n', fine);
    expect(next).toEqual({ prelude: { n: 0 }, rows: [{ x: 42 }] });
    const { rows: sessions } = await f.db.pool.query<{ state: string }>(
      `select state from pg_stat_activity where application_name = $1`,
      [f.hub.app.get<string>(HUB_INSTANCE_NAME)],
    );
    expect(sessions.filter((s) => s.state.startsWith('idle in transaction'))).toEqual([]);
  });
});

describe('the cycle claim on sessions that keep no prepared statements (DB_PREPARED_STATEMENTS=false)', () => {
  const f = useNetHub({
    nets: [{ name: 'net-1' }],
    kitSlots: SLOTS,
    trusts: 2,
    hub: { dbPreparedStatements: false, dbPoolMax: 1 },
  });
  afterEach(() => f.reset());

  it('claims in a transaction that waits for the lock, and prepares nothing on the session', async () => {
    const queued = (
      await f.hub.gqlOk<{ queueTraining: { id: string } }>(QUEUE, {
        m: await f.s.newModel(undefined, f.s.trustIds),
        t: f.s.trustIds,
      })
    ).queueTraining.id;
    const claim = await messagesDuring(() => f.hub.app.get(ClaimService).claimBatch());
    expect(claim.result.map((c) => c.job.id)).toEqual([queued]);
    const kinds = claim.texts.map((t) => t.trim().split(/\s+/)[0].toLowerCase());
    expect(kinds[0]).toBe('begin');
    expect(kinds.at(-1)).toBe('commit');
    expect(claim.texts.some((t) => t.includes('pg_advisory_xact_lock('))).toBe(true);
    expect(claim.texts.filter((t) => t.includes('lifecycle:claimNextJobs'))).toHaveLength(1);
    expect(claim.texts.some((t) => /^(prepare|begin;)/.test(t))).toBe(false);
    const pool = await f.hub.app.get(EntityManager).getConnection().getNativeClient();
    const session = await pool.connect();
    try {
      const { rows } = await session.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements`);
      expect(rows[0].n).toBe(0);
    } finally {
      session.release();
    }
  });
});
