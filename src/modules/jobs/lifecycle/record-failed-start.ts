import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppConfig } from '../../../config/app-config.js';
import { queryOne, sql } from '../../../database/sql.js';
import { backoffInterval } from '../admission.sql.js';
import { END, JOB, leaseInterval, MODEL, NET, OUTCOME } from './fragments.js';
import { StartOutcome } from './states.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

export const RECORD_FAILED_START = lifecycleStatement('recordFailedStart', {
  job: [JobState.CLAIMED, JobState.SUBMITTING].flatMap((from) => [
    [from, JobState.QUEUED] as const,
    [from, JobState.DELETED] as const,
  ]),
  net: [
    [NetState.HELD, NetState.AVAILABLE],
    [NetState.HELD, NetState.SWEEP],
  ],
});

/** How a start that did not go through is recorded. */
export interface FailedStart {
  outcome: StartOutcome.CLIENTS_OFFLINE | StartOutcome.NET_ERROR | StartOutcome.REJECTED;
  detail: string;
  /** the net itself failed a call: it takes no job until a probe answers */
  netFailed: boolean;
}

export interface RecordedFailure {
  status: 'QUEUED' | 'DELETED';
  endReason: string | null;
  retryAt: Date | null;
}

/**
 * A failed start, in ONE statement (compare-and-set on the claim: a job no
 * longer on this claim is left alone and nothing is recorded):
 *  - the attempt is recorded (at most one per claim);
 *  - the job goes back to the queue at its old place (its `seq`) with a
 *    backoff (`ADMISSION_BACKOFF_MS`, doubling up to `ADMISSION_BACKOFF_MAX_MS`),
 *    or is removed (DELETED, model ERROR): REJECTED at once, NET_ERROR after
 *    MAX_START_ATTEMPTS failed starts (START_FAILED), CLIENTS_OFFLINE after
 *    ADMISSION_MAX_WAIT_MS of waiting for its clients (ADMISSION_TIMEOUT);
 *  - its net is freed, or held for a sweep when `submit_job` was sent;
 *  - a net that failed the call is held back until a probe (its own backoff),
 *    unless MAX_START_ATTEMPTS=1 (fail-fast: nothing is retried, nothing held back).
 */
export async function recordFailedStart(
  em: EntityManager,
  config: AppConfig,
  claim: { jobId: string; claimToken: string; netId: string | null },
  failure: FailedStart,
  submitted: boolean,
): Promise<RecordedFailure | undefined> {
  const { outcome, detail } = failure;
  const counts = outcome === StartOutcome.NET_ERROR || outcome === StartOutcome.REJECTED ? 1 : 0;
  const holdNet = failure.netFailed && config.maxStartAttempts > 1;
  return queryOne<RecordedFailure>(
    em,
    sql`with target as (
          select j.id, j.failed_starts + ${counts}::int as failed_starts, coalesce(j.offline_since, now()) as offline_since
          from job j
          where j.id = ${claim.jobId} and j.claim_token = ${claim.claimToken} and j.status = ${JOB.IN_PROGRESS}
          for update
        ), decided as (
          select t.*, case
              when ${outcome}::text = ${OUTCOME.REJECTED} then ${END.START_FAILED}
              when ${outcome}::text = ${OUTCOME.NET_ERROR} and t.failed_starts >= ${config.maxStartAttempts}::int then ${END.START_FAILED}
              when ${outcome}::text = ${OUTCOME.CLIENTS_OFFLINE}
                and t.offline_since + ${config.admissionMaxWaitMs} * interval '1 millisecond' <= now() then ${END.ADMISSION_TIMEOUT}
            end as end_reason
          from target t
        ), ended as (
          update job j set
            status = case when d.end_reason is null then ${JOB.QUEUED} else ${JOB.DELETED} end,
            end_reason = d.end_reason,
            net_id = case when d.end_reason is null then null else j.net_id end,
            started_at = null, claim_token = null, start_phase = null, missing_since = null,
            failed_starts = d.failed_starts,
            offline_since = case when ${outcome}::text = ${OUTCOME.CLIENTS_OFFLINE} then d.offline_since else j.offline_since end,
            retry_at = case when d.end_reason is null then now() + ${backoffInterval(config, 'j.backoffs')} end,
            backoffs = j.backoffs + case when d.end_reason is null then 1 else 0 end
          from decided d where j.id = d.id
          returning j.id, j.status, j.end_reason, j.model_id, j.retry_at
        ), freed as (
          update scheduler set job_id = null, updated_at = now(),
            status = case when ${submitted} then ${NET.BUSY} else ${NET.AVAILABLE} end,
            lease_until = case when ${submitted} then now() + ${leaseInterval(config.netLeaseMs)} end,
            sweep_pending = ${submitted}
          where job_id in (select id from ended)
        ), errored as (
          update model set status = ${MODEL.ERROR}, updated_at = now()
          where id in (select model_id from ended where status = ${JOB.DELETED}) and status <> ${MODEL.STOPPED}
        ), attempt as (
          insert into start_attempt (job_id, net_id, claim_token, outcome, detail)
          select id, ${claim.netId}::uuid, ${claim.claimToken}::uuid, ${outcome}, ${detail.slice(0, 2000)} from ended
          on conflict (claim_token) where claim_token is not null do nothing
        ), net_held as (
          update net set failed_calls = failed_calls + 1,
            retry_at = now() + ${backoffInterval(config, 'failed_calls')}
          where ${holdNet} and id = ${claim.netId}::uuid and exists (select 1 from ended)
        )
        select status, end_reason as "endReason", retry_at as "retryAt" from ended ${RECORD_FAILED_START.tag}`,
  );
}
