import type { EntityManager } from '@mikro-orm/postgresql';
import { queryOne, sql } from '../../../database/sql.js';
import type { AppConfig } from '../../../config/app-config.js';
import { backoffInterval } from '../admission.sql.js';
import { END, JOB, leaseInterval, MODEL, NET, OUTCOME, PHASE } from './fragments.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

export const RECOVER_EXPIRED_LEASES = lifecycleStatement('recoverExpiredLeases', {
  job: [JobState.CLAIMED, JobState.SUBMITTING].flatMap((from) => [
    [from, JobState.QUEUED] as const,
    [from, JobState.DELETED] as const,
  ]),
  net: [
    [NetState.CLAIMED, NetState.AVAILABLE],
    [NetState.HELD, NetState.AVAILABLE],
    [NetState.HELD, NetState.SWEEP],
  ],
});

export interface RecoveryResult {
  requeued: number;
  retired: number;
  freed: number;
  heldForSweep: number;
}

export interface RecoveryRules {
  maxStartAttempts: number;
  leaseMs: number;
  /** how long past its lease a start that reached submit_job is left to its live instance */
  confirmGraceMs: number;
  /** after a database restart, how long instances get to reconnect before they are taken for gone */
  reconnectGraceMs: number;
  /** the requeued job's backoff */
  backoff: Pick<AppConfig, 'admissionBackoffMs' | 'admissionBackoffMaxMs'>;
}

/** Lease recovery in one statement, by the database clock (the rule is told in RecoveryService). */
export async function recoverExpiredLeases(em: EntityManager, rules: RecoveryRules): Promise<RecoveryResult | undefined> {
  return queryOne<RecoveryResult>(
    em,
    sql`with expired as (
          select s.id as scheduler_id, s.job_id, j.start_phase, j.claim_token, j.net_id
          from scheduler s left join job j on j.id = s.job_id
          where s.status = ${NET.BUSY} and s.lease_until < now() and not s.sweep_pending
            and (s.job_id is null or j.start_phase = ${PHASE.CLAIMED}
                 or (j.start_phase = ${PHASE.SUBMITTING}
                     and (s.lease_until < now() - ${leaseInterval(rules.confirmGraceMs)}
                          or (pg_postmaster_start_time() < now() - ${leaseInterval(rules.reconnectGraceMs)}
                              and not exists (select 1 from pg_stat_activity a
                                              where a.application_name in (j.claimed_by, j.claimed_by || '/events'))))))
          for update of s skip locked
        ), recovered as (
          -- an unconfirmed start counts as a failed one (NET_ERROR); the job goes back with a backoff
          update job j set
            status = case when j.failed_starts + 1 >= ${rules.maxStartAttempts} then ${JOB.DELETED} else ${JOB.QUEUED} end,
            end_reason = case when j.failed_starts + 1 >= ${rules.maxStartAttempts} then ${END.START_FAILED} end,
            net_id = case when j.failed_starts + 1 >= ${rules.maxStartAttempts} then j.net_id else null end,
            failed_starts = j.failed_starts + 1,
            retry_at = case when j.failed_starts + 1 < ${rules.maxStartAttempts}
              then now() + ${backoffInterval(rules.backoff, 'j.backoffs')} end,
            backoffs = j.backoffs + 1,
            started_at = null, claim_token = null, start_phase = null
          from expired e where j.id = e.job_id and j.status = ${JOB.IN_PROGRESS}
          returning j.id, j.status, j.model_id, e.claim_token, e.net_id
        ), attempt as (
          insert into start_attempt (job_id, net_id, claim_token, outcome, detail)
          select id, net_id, claim_token, ${OUTCOME.NET_ERROR},
            'the start was not confirmed within its lease (NET_LEASE_MS): its hub instance stopped or lost the database'
          from recovered
          on conflict (claim_token) where claim_token is not null do nothing
        ), errored as (
          update model set status = ${MODEL.ERROR}, updated_at = now()
          where id in (select model_id from recovered where status = ${JOB.DELETED}) and status <> ${MODEL.STOPPED}
        ), released as (
          update scheduler s set job_id = null, updated_at = now(),
            status = case when coalesce(e.start_phase = ${PHASE.SUBMITTING}, false) then ${NET.BUSY} else ${NET.AVAILABLE} end,
            lease_until = case when coalesce(e.start_phase = ${PHASE.SUBMITTING}, false)
              then now() + ${leaseInterval(rules.leaseMs)} else null end,
            sweep_pending = coalesce(e.start_phase = ${PHASE.SUBMITTING}, false)
          from expired e where s.id = e.scheduler_id
          returning s.status
        )
        select (select count(*)::int from recovered where status = ${JOB.QUEUED}) as requeued,
               (select count(*)::int from recovered where status = ${JOB.DELETED}) as retired,
               (select count(*)::int from released where status = ${NET.AVAILABLE}) as freed,
               (select count(*)::int from released where status = ${NET.BUSY}) as "heldForSweep" ${RECOVER_EXPIRED_LEASES.tag}`,
  );
}
