import type { EntityManager } from '@mikro-orm/postgresql';
import type { RawBuilder } from 'kysely';
import { query, sql } from '../../../database/sql.js';
import { assignPairs, toClaim, type ClaimRow } from './claim-pairs.js';
import type { Claim } from './claim.js';
import { FREE_NET_TEXT } from '../admission.sql.js';
import {
  effectivePriorityText,
  FAIR_KEY_TEXT,
  GATES_TEXT,
  JOB_OPEN_IN_OPEN_PROJECT_TEXT,
  JOB_OPEN_TEXT,
  PRIORITY_LANES,
  type OrderConfig,
} from '../dispatch-order.sql.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

/** FIFO: how many queued jobs the claim looks at per free net (jobs that fit no net left over are passed by). */
const FIFO_CANDIDATES_PER_NET = 4;

export const CLAIM_NEXT_JOBS = lifecycleStatement('claimNextJobs', {
  job: [[JobState.QUEUED, JobState.CLAIMED]],
  net: [[NetState.AVAILABLE, NetState.HELD]],
});

/** The nets a claim may fill: `free (id, net_id, ord)`, ord 1 = longest free. */
export type FreeNets = 'all' | { schedulerId: string };

/**
 * `candidates (id, project_id, rn)`: the jobs that can start now, in
 * dispatch order (rn 1 first), as many as the claim can use. Needs
 * GATES_TEXT and `free`.
 *
 * fair: each project's queue is read one priority class at a time by index
 * (`job_project_queue_idx`), oldest first, the checks made row by row only
 * until one job per free net passed them (the `offset 0` keeps the planner
 * from checking the whole class before sorting it), from each class:
 * within a project and a class the oldest job has waited longest, so no
 * other can rank before it. Of those, each project keeps its first jobs in
 * its own order (effective priority, then age), each ranked by its fair-share
 * key; then all of them in the dispatch order. The cost follows the number of
 * projects and free nets, not the length of the queue.
 *
 * fifo: the oldest jobs that can start, a few per free net.
 */
export function candidatesText(order: OrderConfig, runnable: string): string {
  const effective = effectivePriorityText(order);
  if (order.dispatchOrder === 'fifo') {
    return `candidates as materialized (
      select c.id, c.project_id, row_number() over (order by c.seq) as rn
      from (select j.id, j.seq, j.project_id from job j
            where j.status = 'QUEUED' and ${JOB_OPEN_TEXT} and ${runnable}
            order by j.seq limit (select ${FIFO_CANDIDATES_PER_NET} * count(*) from free)) c
    )`;
  }
  const lanes = PRIORITY_LANES.map((lane) => `('${lane}')`).join(', ');
  return `heads as (
      select h.id, h.seq, h.project_id, h.effective
      from project_gate pg
      cross join (values ${lanes}) as lane(priority)
      cross join lateral (
        select j.id, j.seq, j.project_id, ${effective} as effective
        from (select lj.id, lj.seq, lj.project_id, lj.model_id, lj.priority, lj.created_at, lj.retry_at, lj.not_before
              from job lj where lj.project_id = pg.id and lj.priority = lane.priority and lj.status = 'QUEUED'
              order by lj.seq offset 0) j
        where ${JOB_OPEN_IN_OPEN_PROJECT_TEXT} and ${runnable}
        limit (select count(*) from free)) h
      where not pg.at_cap and exists (select 1 from free)
    ), in_project as (
      select h.*, row_number() over (partition by h.project_id order by h.effective desc, h.seq) - 1 as k from heads h
    ), candidates as materialized (
      select c.id, c.project_id,
        row_number() over (order by c.effective desc, ${FAIR_KEY_TEXT('c.k')}, c.seq) as rn
      from in_project c join project_gate pg on pg.id = c.project_id
      where c.k < (select count(*) from free)
    )`;
}

/**
 * The pairing, as the head of a statement ending in `pair (job_id,
 * scheduler_id, net_id)`: the free nets `nets` (locked by the caller's
 * statement), the gates, the candidates in dispatch order, and the walk that
 * gives each candidate in turn the first free net (longest free first) where
 * its clients are online and no earlier job went — unless the jobs taken
 * before it in this walk bring one of its trusts or its project to its cap:
 * then it is passed by and the next one tried.
 */
function pairing(nets: RawBuilder<unknown>, admission: { clientsReady: string }, order: OrderConfig) {
  const runnable = `exists (select 1 from free f join net n on n.id = f.net_id where ${admission.clientsReady})`;
  return sql`with recursive free as (
          select id, net_id, row_number() over (order by updated_at, id) as ord from (${nets}) f
        ), ${sql.raw(GATES_TEXT)}, ${sql.raw(candidatesText(order, runnable))},
        walk (rn, taken, trusts, projects, job_id, scheduler_id, net_id) as (
          select 0::bigint, array[]::uuid[], array[]::uuid[], array[]::uuid[], null::uuid, null::uuid, null::uuid
          union all
          select c.rn,
            case when e.scheduler_id is null then w.taken else w.taken || e.scheduler_id end,
            case when e.scheduler_id is null then w.trusts else w.trusts || ct.trusts end,
            case when e.scheduler_id is null then w.projects else w.projects || c.project_id end,
            c.id, e.scheduler_id, e.net_id
          from walk w join candidates c on c.rn = w.rn + 1
          cross join lateral (select array(select jt.trust_id from job_trust jt where jt.job_id = c.id) as trusts) ct
          left join lateral (
            select f.id as scheduler_id, f.net_id from free f join net n on n.id = f.net_id join job j on j.id = c.id
            where f.id <> all (w.taken) and ${sql.raw(admission.clientsReady)}
              and not exists (select 1 from project_gate pg where pg.id = c.project_id and pg.cap is not null
                              and pg.running + cardinality(array_positions(w.projects, c.project_id)) >= pg.cap)
              and not exists (select 1 from unnest(ct.trusts) as t(id) join trust_gate tg on tg.id = t.id
                              where tg.cap is not null and tg.running + cardinality(array_positions(w.trusts, t.id)) >= tg.cap)
            order by f.ord limit 1) e on true
          where cardinality(w.taken) < (select count(*) from free)
        ), pair as (
          select job_id, scheduler_id, net_id from walk where scheduler_id is not null
        )`;
}

/**
 * The cycle's claim, in ONE statement, taken under the claim lock (see
 * ClaimService): the free nets that take jobs (not drained, no failed call
 * waiting for its probe, pickup not paused) are locked with FOR UPDATE SKIP
 * LOCKED; the jobs that can start now come in dispatch order
 * (`candidatesText`: held trusts, trusts and projects at capacity, backoffs,
 * start times and unapproved trusts are passed by, never waited behind, as
 * are jobs whose clients are online on no free net) and are paired with them
 * (`pairing`). Each pair is set IN_PROGRESS / BUSY with its job and a lease.
 */
export async function claimNextJobs(
  em: EntityManager,
  claim: { instanceName: string; leaseMs: number },
  admission: { clientsReady: string },
  order: OrderConfig,
): Promise<Claim[]> {
  const rows = await query(em, claimNextJobsStatement(claim, admission, order));
  return rows.map(toClaim);
}

/** The statement of `claimNextJobs` (for a measurement or a plan). */
export function claimNextJobsStatement(
  claim: { instanceName: string; leaseMs: number },
  admission: { clientsReady: string },
  order: OrderConfig,
): RawBuilder<ClaimRow> {
  const nets = sql`select s.id, s.net_id, s.updated_at from scheduler s join net n on n.id = s.net_id
      where ${sql.raw(FREE_NET_TEXT)}
      order by s.updated_at, s.id
      for update of s skip locked`;
  return sql<ClaimRow>`${pairing(nets, admission, order)}, ${assignPairs(claim)} ${CLAIM_NEXT_JOBS.tag}`;
}

/**
 * `check_for_queued_jobs`' choice: the job that the claim would give the
 * scheduler `schedulerId` (claimed alone, and locked by the caller) — the
 * first in dispatch order whose clients are online on its net.
 */
export async function nextJobForNet(
  em: EntityManager,
  schedulerId: string,
  admission: { clientsReady: string },
  order: OrderConfig,
): Promise<string | undefined> {
  const nets = sql`select s.id, s.net_id, s.updated_at from scheduler s where s.id = ${schedulerId}::uuid`;
  const [row] = await query<{ jobId: string }>(em, sql`${pairing(nets, admission, order)} select job_id as "jobId" from pair`);
  return row?.jobId;
}
