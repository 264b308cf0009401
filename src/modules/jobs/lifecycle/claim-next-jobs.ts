import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { assignPairs, toClaim, type ClaimRow } from './claim-pairs.js';
import type { Claim } from './claim.js';
import { FREE_NET_TEXT } from '../admission.sql.js';
import { JOB, UNAPPROVED_TRUST } from './fragments.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

/** How many queued jobs the claim considers per free net (jobs whose clients fit no net left over are passed by). */
const CANDIDATES_PER_NET = 4;

export const CLAIM_NEXT_JOBS = lifecycleStatement('claimNextJobs', {
  job: [[JobState.QUEUED, JobState.CLAIMED]],
  net: [[NetState.AVAILABLE, NetState.HELD]],
});

/**
 * The cycle's claim, in ONE statement. The free nets that take jobs (not
 * drained, no failed call waiting for its probe, pickup not paused) are
 * locked with FOR UPDATE SKIP LOCKED, then the oldest QUEUED jobs that may
 * start now (`admission.runnableNow`: their backoff over, and a free net where
 * their clients are online) — a few more than nets, so that a job whose
 * clients fit no net left over does not waste one. Each job in queue order
 * takes the first free net (longest free first) where its clients are online
 * and no earlier job went (`walk`): a job whose clients are offline on one net
 * goes to another, and a net no job can use now is not used up. Each pair is
 * set IN_PROGRESS / BUSY with its job and a lease. Jobs naming a trust no
 * longer approved are skipped.
 */
export async function claimNextJobs(
  em: EntityManager,
  claim: { instanceName: string; leaseMs: number },
  admission: { clientsReady: string; runnableNow: string },
): Promise<Claim[]> {
  const rows = await query<ClaimRow>(
    em,
    sql`with recursive free as (
          select id, net_id, row_number() over (order by updated_at, id) as ord
          from (select s.id, s.net_id, s.updated_at from scheduler s join net n on n.id = s.net_id
                where ${sql.raw(FREE_NET_TEXT)}
                order by s.updated_at, s.id
                for update of s skip locked) f
        ), candidates as (
          select id, row_number() over (order by seq) as rn
          from (select j.id, j.seq from job j
                where j.status = ${JOB.QUEUED} and not ${UNAPPROVED_TRUST} and ${sql.raw(admission.runnableNow)}
                order by j.seq
                limit (select ${CANDIDATES_PER_NET} * count(*) from free)
                for update of j skip locked) c
        ), fits as (
          select c.rn, f.id as scheduler_id, f.net_id, f.ord
          from candidates c join job j on j.id = c.id cross join free f join net n on n.id = f.net_id
          where ${sql.raw(admission.clientsReady)}
        ), walk (rn, taken, job_id, scheduler_id, net_id) as (
          select 0::bigint, array[]::uuid[], null::uuid, null::uuid, null::uuid
          union all
          select c.rn, case when e.scheduler_id is null then w.taken else w.taken || e.scheduler_id end,
            c.id, e.scheduler_id, e.net_id
          from walk w join candidates c on c.rn = w.rn + 1
          left join lateral (select ft.scheduler_id, ft.net_id from fits ft
                             where ft.rn = c.rn and ft.scheduler_id <> all (w.taken)
                             order by ft.ord limit 1) e on true
          where cardinality(w.taken) < (select count(*) from free)
        ), pair as (
          select job_id, scheduler_id, net_id from walk where scheduler_id is not null
        ), ${assignPairs(claim)} ${CLAIM_NEXT_JOBS.tag}`,
  );
  return rows.map(toClaim);
}
