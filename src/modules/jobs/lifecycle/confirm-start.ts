import type { EntityManager } from '@mikro-orm/postgresql';
import { queryOne, sql } from '../../../database/sql.js';
import { JOB_COLUMNS, type JobRow } from '../job.sql.js';
import { JOB, leaseInterval, MODEL, NET, OUTCOME, PHASE } from './fragments.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

export const CONFIRM_START = lifecycleStatement('confirmStart', {
  job: [
    [JobState.SUBMITTING, JobState.RUNNING],
    [JobState.RUNNING, JobState.RUNNING],
    [JobState.COMPLETED, JobState.COMPLETED],
    [JobState.QUEUED, JobState.RUNNING],
  ],
  net: [
    [NetState.HELD, NetState.HELD],
    [NetState.HELD, NetState.SWEEP],
    [NetState.SWEEP, NetState.HELD],
  ],
});

/** A confirmed start; `sweepNet` when its job had already ended and its net now waits for the start's sweep. */
export type ConfirmedStart = JobRow & { sweepNet: boolean };

export interface StartToConfirm {
  jobId: string;
  claimToken: string;
  /** '' when the start does not know its scheduler */
  schedulerId: string;
  backendJobId: string;
}

/**
 * The confirmation, in one statement, in one of three ways:
 *  - the job is still IN_PROGRESS on its claim: it is RUNNING with its run;
 *  - a completion report overtook the start (the job COMPLETED while
 *    SUBMITTING, its net left to this start): the run is recorded on the
 *    ended job, which stays as reported, and the net is handed over for a
 *    sweep (`sweepNet`) — the finished run is not aborted, but nothing may
 *    be left running on a net that is handed out again;
 *  - recovery put the job back in the queue first, holding its net for a
 *    sweep (this instance's sessions were gone, or the grace ran out): the
 *    late confirmation takes the job back — its run exists on that net, so
 *    running it again elsewhere would run it twice — only while nobody has
 *    claimed the job again and the net still waits for its sweep.
 * The lease is dropped and the model moves to INITIATED. Otherwise nothing
 * is returned and the caller aborts the run. Idempotent.
 */
export async function confirmStart(
  em: EntityManager,
  start: StartToConfirm,
  leaseMs: number,
): Promise<ConfirmedStart | undefined> {
  const { jobId, claimToken, schedulerId, backendJobId } = start;
  return queryOne<ConfirmedStart>(
    em,
    sql`with started as (
          update job set backend_job_id = ${backendJobId}, start_phase = ${PHASE.RUNNING}
          where id = ${jobId} and claim_token = ${claimToken} and status = ${JOB.IN_PROGRESS}
            and (start_phase = ${PHASE.SUBMITTING} or (start_phase = ${PHASE.RUNNING} and backend_job_id = ${backendJobId}))
          returning *
        ), ended_early as (
          update job set backend_job_id = ${backendJobId}, start_phase = ${PHASE.RUNNING}
          where id = ${jobId} and claim_token = ${claimToken} and status = ${JOB.COMPLETED}
            and (start_phase = ${PHASE.SUBMITTING} or (start_phase = ${PHASE.RUNNING} and backend_job_id = ${backendJobId}))
          returning *
        ), handed_over as (
          update scheduler set job_id = null, sweep_pending = true, updated_at = now(),
            lease_until = now() + ${leaseInterval(leaseMs)}
          where job_id in (select id from ended_early)
          returning id
        ), taken_back as (
          update job j set status = ${JOB.IN_PROGRESS}, net_id = s.net_id, claim_token = ${claimToken},
            start_phase = ${PHASE.RUNNING}, backend_job_id = ${backendJobId}, started_at = clock_timestamp(), missing_since = null
          from scheduler s
          where not exists (select 1 from started) and not exists (select 1 from ended_early)
            and j.id = ${jobId} and j.status = ${JOB.QUEUED} and j.claim_token is null
            and s.id = nullif(${schedulerId}, '')::uuid and s.status = ${NET.BUSY} and s.job_id is null and s.sweep_pending
          returning j.*
        ), held as (
          update scheduler s set job_id = t.id, sweep_pending = false, lease_until = null, updated_at = now()
          from taken_back t where s.id = nullif(${schedulerId}, '')::uuid
        ), confirmed as (
          update scheduler set lease_until = null, updated_at = now() where job_id in (select id from started)
        ), attempt as (
          -- one attempt per claim: a retried confirmation records nothing twice; a late one corrects
          -- what lease recovery recorded for this claim
          insert into start_attempt (job_id, net_id, claim_token, outcome, detail)
          select id, net_id, ${claimToken}::uuid, ${OUTCOME.STARTED}, 'run ' || ${backendJobId}::text
          from (select id, net_id from started union all select id, net_id from taken_back
                union all select id, net_id from ended_early) c
          on conflict (claim_token) where claim_token is not null
            do update set outcome = ${OUTCOME.STARTED}, detail = excluded.detail, at = excluded.at
        ), model_started as (
          update model set status = ${MODEL.INITIATED}, updated_at = now()
          where id in (select model_id from started union all select model_id from taken_back
                       union all select model_id from ended_early) and status = ${MODEL.PENDING}
        )
        select ${JOB_COLUMNS}, exists (select 1 from handed_over) as "sweepNet"
        from (select * from started union all select * from taken_back union all select * from ended_early) j ${CONFIRM_START.tag}`,
  );
}
