import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { queryOne, sql } from '../../../database/sql.js';
import { backoffInterval } from '../../jobs/admission.sql.js';
import { leaseInterval } from './scheduler.sql.js';
import { confirmGraceMs, RECONNECT_GRACE_MS } from './start-lease.js';

export interface RecoveryResult {
  requeued: number;
  retired: number;
  freed: number;
  heldForSweep: number;
}

/**
 * Lease recovery, by the database clock. A BUSY net whose lease expired
 * without a confirmed start is recovered under this rule:
 *  - the unconfirmed start counts as a failed one (an attempt NET_ERROR,
 *    recorded once per claim): its job goes back to the queue (same place,
 *    with a backoff) — or, after MAX_START_ATTEMPTS failed starts, is removed
 *    (DELETED, START_FAILED) and its model set to ERROR;
 *  - the net becomes AVAILABLE, unless the start had reached `submit_job`
 *    (a run may exist on the net): then it is held for a sweep that aborts
 *    orphan runs before the net is handed out again;
 *  - but a start that reached `submit_job` is left to the instance that
 *    claimed it while that instance has a session in the database (it may
 *    yet confirm the run: requeueing the job could run it twice), for at most
 *    the confirmation grace past the lease (`confirmGraceMs`); after a
 *    database restart, instances get RECONNECT_GRACE_MS to show up again;
 *  - a net claimed alone (`claimAvailableNet`) with no job is simply freed;
 *  - a net still left to a start whose job a completion report already ended
 *    (SUBMITTING, job COMPLETED) is held for a sweep the same way; the job stays as reported.
 */
@Injectable()
export class RecoveryService {
  private readonly logger = new Logger('Recovery');

  constructor(
    private readonly em: EntityManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async recoverExpiredLeases(): Promise<RecoveryResult> {
    const result = await queryOne<RecoveryResult>(
      this.em.fork(),
      sql`with expired as (
            select s.id as scheduler_id, s.job_id, j.start_phase, j.claim_token, j.net_id
            from scheduler s left join job j on j.id = s.job_id
            where s.status = 'BUSY' and s.lease_until < now() and not s.sweep_pending
              and (s.job_id is null or j.start_phase = 'CLAIMED'
                   or (j.start_phase = 'SUBMITTING'
                       and (s.lease_until < now() - ${leaseInterval(confirmGraceMs(this.config.netLeaseMs))}
                            or (pg_postmaster_start_time() < now() - ${leaseInterval(RECONNECT_GRACE_MS)}
                                and not exists (select 1 from pg_stat_activity a
                                                where a.application_name in (j.claimed_by, j.claimed_by || '/events'))))))
            for update of s skip locked
          ), recovered as (
            -- an unconfirmed start counts as a failed one (NET_ERROR); the job goes back with a backoff
            update job j set
              status = case when j.failed_starts + 1 >= ${this.config.maxStartAttempts} then 'DELETED' else 'QUEUED' end,
              end_reason = case when j.failed_starts + 1 >= ${this.config.maxStartAttempts} then 'START_FAILED' end,
              net_id = case when j.failed_starts + 1 >= ${this.config.maxStartAttempts} then j.net_id else null end,
              failed_starts = j.failed_starts + 1,
              retry_at = case when j.failed_starts + 1 < ${this.config.maxStartAttempts}
                then now() + ${backoffInterval(this.config, 'j.backoffs')} end,
              backoffs = j.backoffs + 1,
              started_at = null, claim_token = null, start_phase = null
            from expired e where j.id = e.job_id and j.status = 'IN_PROGRESS'
            returning j.id, j.status, j.model_id, e.claim_token, e.net_id
          ), attempt as (
            insert into start_attempt (job_id, net_id, claim_token, outcome, detail)
            select id, net_id, claim_token, 'NET_ERROR',
              'the start was not confirmed within its lease (NET_LEASE_MS): its hub instance stopped or lost the database'
            from recovered
            on conflict (claim_token) where claim_token is not null do nothing
          ), errored as (
            update model set status = 'ERROR', updated_at = now()
            where id in (select model_id from recovered where status = 'DELETED') and status <> 'STOPPED'
          ), released as (
            update scheduler s set job_id = null, updated_at = now(),
              status = case when coalesce(e.start_phase = 'SUBMITTING', false) then 'BUSY' else 'AVAILABLE' end,
              lease_until = case when coalesce(e.start_phase = 'SUBMITTING', false)
                then now() + ${leaseInterval(this.config.netLeaseMs)} else null end,
              sweep_pending = coalesce(e.start_phase = 'SUBMITTING', false)
            from expired e where s.id = e.scheduler_id
            returning s.status
          )
          select (select count(*)::int from recovered where status = 'QUEUED') as requeued,
                 (select count(*)::int from recovered where status = 'DELETED') as retired,
                 (select count(*)::int from released where status = 'AVAILABLE') as freed,
                 (select count(*)::int from released where status = 'BUSY') as "heldForSweep"`,
    );
    const counts = result ?? { requeued: 0, retired: 0, freed: 0, heldForSweep: 0 };
    if (counts.requeued + counts.retired + counts.freed + counts.heldForSweep > 0) {
      this.logger.warn(
        `recovered expired leases: ${counts.requeued} job(s) requeued, ${counts.retired} removed after too many attempts, ` +
          `${counts.freed} net(s) freed, ${counts.heldForSweep} held for a sweep`,
      );
    }
    return counts;
  }
}
