import type { EntityManager } from '@mikro-orm/postgresql';
import { queryOne, sql } from '../../../database/sql.js';
import { JOB, leaseInterval, MODEL, NET, PHASE } from './fragments.js';
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
}

/** Lease recovery in one statement, by the database clock (the rule is told in RecoveryService). */
export async function recoverExpiredLeases(em: EntityManager, rules: RecoveryRules): Promise<RecoveryResult | undefined> {
  return queryOne<RecoveryResult>(
    em,
    sql`with expired as (
          select s.id as scheduler_id, s.job_id, j.start_phase
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
          update job j set
            status = case when j.attempts >= ${rules.maxStartAttempts} then ${JOB.DELETED} else ${JOB.QUEUED} end,
            net_id = case when j.attempts >= ${rules.maxStartAttempts} then j.net_id else null end,
            started_at = null, claim_token = null, start_phase = null
          from expired e where j.id = e.job_id and j.status = ${JOB.IN_PROGRESS}
          returning j.status, j.model_id
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
