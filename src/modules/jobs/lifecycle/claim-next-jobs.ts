import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { assignPairs, toClaim, type ClaimRow } from './claim-pairs.js';
import type { Claim } from './claim.js';
import { JOB, NET, NOT_DRAINED, PICKUP_PAUSED, UNAPPROVED_TRUST } from './fragments.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';
import { NOT_BEFORE_REACHED } from '../job-timing.sql.js';

export const CLAIM_NEXT_JOBS = lifecycleStatement('claimNextJobs', {
  job: [[JobState.QUEUED, JobState.CLAIMED]],
  net: [[NetState.AVAILABLE, NetState.HELD]],
});

/**
 * The cycle's claim, in ONE statement: the oldest valid QUEUED jobs, as many
 * as there are free nets (not drained, pickup not paused), locked with FOR
 * UPDATE SKIP LOCKED, then as many free nets; each pair is set IN_PROGRESS /
 * BUSY with its job and a lease. Jobs naming a trust no longer approved are skipped.
 */
export async function claimNextJobs(em: EntityManager, claim: { instanceName: string; leaseMs: number }): Promise<Claim[]> {
  const rows = await query<ClaimRow>(
    em,
    sql`with candidates as (
          select id, row_number() over (order by seq) as rn
          from (select j.id, j.seq from job j
                where j.status = ${JOB.QUEUED} and not ${UNAPPROVED_TRUST} and ${NOT_BEFORE_REACHED}
                order by j.seq
                limit (select count(*) from scheduler where status = ${NET.AVAILABLE} and ${NOT_DRAINED} and not ${PICKUP_PAUSED})
                for update of j skip locked) c
        ), free as (
          select id, net_id, row_number() over (order by updated_at, id) as rn
          from (select id, net_id, updated_at from scheduler
                where status = ${NET.AVAILABLE} and ${NOT_DRAINED} and not ${PICKUP_PAUSED}
                order by updated_at, id
                limit (select count(*) from candidates)
                for update skip locked) f
        ), pair as (
          select c.id as job_id, f.id as scheduler_id, f.net_id from candidates c join free f using (rn)
        ), ${assignPairs(claim)} ${CLAIM_NEXT_JOBS.tag}`,
  );
  return rows.map(toClaim);
}
