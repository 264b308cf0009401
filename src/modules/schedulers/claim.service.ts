import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { conflict, notFound } from '../../common/errors.js';
import { query, queryOne, sql } from '../../database/sql.js';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.sql.js';
import type { SchedulerModel } from './scheduler.model.js';
import { leaseInterval, PICKUP_PAUSED, SCHEDULER_COLUMNS } from './scheduler.sql.js';

/** A job claimed for a net: what the start needs to compare-and-set on later. */
export interface Claim {
  job: JobRow;
  claimToken: string;
  schedulerId: string;
  /** the job's trusts */
  trustIds: string[];
}

interface QueueHead {
  id: string;
  modelId: string;
  invalid: boolean;
}

/**
 * Claims nets and jobs. Every claim is a transaction that locks rows with
 * FOR UPDATE SKIP LOCKED, so any number of hub instances can claim at once
 * without waiting on each other or taking the same net or job.
 */
@Injectable()
export class ClaimService {
  private readonly logger = new Logger('Claim');

  constructor(
    private readonly em: EntityManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The cycle's claim: every free net paired with the oldest valid QUEUED
   * jobs, in ONE transaction; a net is never committed BUSY without its job.
   */
  async claimBatch(): Promise<Claim[]> {
    return this.em.fork().transactional(async (em) => {
      const schedulers = await query<{ id: string; netId: string }>(
        em,
        sql`select id, net_id as "netId" from scheduler
            where status = 'AVAILABLE' and not ${PICKUP_PAUSED}
            order by updated_at, id for update skip locked`,
      );
      if (schedulers.length === 0) return [];
      const jobIds = await this.takeValidQueuedJobs(em, schedulers.length);
      if (jobIds.length === 0) return [];
      const pairs = jobIds.map((jobId, i) => ({ jobId, schedulerId: schedulers[i].id, netId: schedulers[i].netId }));
      return this.assign(em, pairs);
    });
  }

  /** `check_for_available_net`: claims one AVAILABLE net, held by a lease until a job is claimed for it. */
  async checkForAvailableNet(): Promise<SchedulerModel | null> {
    const row = await queryOne<SchedulerModel>(
      this.em.fork(),
      sql`update scheduler s set status = 'BUSY', lease_until = now() + ${leaseInterval(this.config.netLeaseMs)}, updated_at = now()
          where s.id = (select id from scheduler where status = 'AVAILABLE' and not ${PICKUP_PAUSED}
                        order by updated_at, id limit 1 for update skip locked)
          returning ${SCHEDULER_COLUMNS}`,
    );
    return row ?? null;
  }

  /** `check_for_queued_jobs`: for a net claimed by `checkForAvailableNet`, claims the oldest valid QUEUED job. */
  async checkForQueuedJobs(schedulerId: string): Promise<Claim | null> {
    return this.em.fork().transactional(async (em) => {
      const scheduler = await queryOne<{
        id: string;
        netId: string;
        status: string;
        jobId: string | null;
        sweepPending: boolean;
      }>(
        em,
        sql`select id, net_id as "netId", status, job_id as "jobId", sweep_pending as "sweepPending"
            from scheduler where id = ${schedulerId} for update`,
      );
      if (!scheduler) throw notFound('Scheduler', schedulerId);
      if (scheduler.status !== 'BUSY' || scheduler.jobId !== null || scheduler.sweepPending) {
        throw conflict('the scheduler is not claimed (call claimAvailableNet first) or already holds a job', { schedulerId });
      }
      const [jobId] = await this.takeValidQueuedJobs(em, 1);
      if (jobId === undefined) return null;
      const [claim] = await this.assign(em, [{ jobId, schedulerId: scheduler.id, netId: scheduler.netId }]);
      return claim;
    });
  }

  /**
   * `revert_scheduler_pickup`: the net goes back to AVAILABLE with no job. A
   * job claimed on it but not yet started there goes back to the queue; a net
   * running a started run is refused (stop or complete the training instead).
   */
  async revertSchedulerPickup(schedulerId: string): Promise<SchedulerModel> {
    return this.em.fork().transactional(async (em) => {
      const current = await queryOne<{ jobId: string | null; phase: string | null }>(
        em,
        sql`select s.job_id as "jobId", j.start_phase as phase from scheduler s
            left join job j on j.id = s.job_id where s.id = ${schedulerId} for update of s`,
      );
      if (!current) throw notFound('Scheduler', schedulerId);
      if (current.jobId !== null && current.phase !== 'CLAIMED') {
        throw conflict('the net has a started run; use stopTraining or completeTraining', { jobId: current.jobId });
      }
      if (current.jobId !== null) {
        await query(
          em,
          sql`update job set status = 'QUEUED', net_id = null, started_at = null, claim_token = null, start_phase = null
              where id = ${current.jobId} and status = 'IN_PROGRESS'`,
        );
      }
      const row = await queryOne<SchedulerModel>(
        em,
        sql`update scheduler s set status = 'AVAILABLE', job_id = null, lease_until = null, sweep_pending = false, updated_at = now()
            where s.id = ${schedulerId} returning ${SCHEDULER_COLUMNS}`,
      );
      return row!;
    });
  }

  /**
   * Locks the oldest QUEUED jobs; a job naming a trust that is no longer
   * approved for its model is retired on the spot (DELETED; model ERROR unless
   * it has another live job), and the next one is taken instead, so one bad
   * job never blocks the queue.
   */
  private async takeValidQueuedJobs(em: EntityManager, wanted: number): Promise<string[]> {
    const taken: string[] = [];
    for (;;) {
      const head = await query<QueueHead>(
        em,
        sql`select j.id, j.model_id as "modelId",
              exists (select 1 from job_trust jt where jt.job_id = j.id and not exists (
                select 1 from model_approved_trust a where a.model_id = j.model_id and a.trust_id = jt.trust_id)) as invalid
            from job j where j.status = 'QUEUED' and not (j.id = any(${taken}::uuid[]))
            order by j.seq limit ${wanted - taken.length} for update of j skip locked`,
      );
      const invalid = head.filter((j) => j.invalid);
      taken.push(...head.filter((j) => !j.invalid).map((j) => j.id));
      if (invalid.length > 0) await this.retire(em, invalid);
      if (invalid.length === 0 || taken.length >= wanted) return taken;
    }
  }

  private async retire(em: EntityManager, jobs: QueueHead[]): Promise<void> {
    const ids = jobs.map((j) => j.id);
    this.logger.warn(`retiring ${ids.length} queued job(s) naming trusts not approved for their model: ${ids.join(', ')}`);
    await query(
      em,
      sql`with retired as (
            update job set status = 'DELETED' where id = any(${ids}::uuid[]) and status = 'QUEUED' returning model_id
          )
          update model m set status = 'ERROR', updated_at = now()
          where m.id in (select model_id from retired) and m.status <> 'STOPPED'
            and not exists (select 1 from job o where o.model_id = m.id and o.status in ('QUEUED', 'IN_PROGRESS')
                            and not (o.id = any(${ids}::uuid[])))`,
    );
  }

  private async assign(em: EntityManager, pairs: Array<{ jobId: string; schedulerId: string; netId: string }>): Promise<Claim[]> {
    const rows = await query<JobRow & { claimToken: string; schedulerId: string; trustIds: string[] }>(
      em,
      sql`with pair as (
            select * from unnest(${pairs.map((p) => p.jobId)}::uuid[], ${pairs.map((p) => p.schedulerId)}::uuid[],
                                 ${pairs.map((p) => p.netId)}::uuid[]) as p(job_id, scheduler_id, net_id)
          ), claimed as (
            update job j set status = 'IN_PROGRESS', net_id = p.net_id, started_at = clock_timestamp(), attempts = j.attempts + 1,
              claim_token = gen_random_uuid(), start_phase = 'CLAIMED', missing_since = null, backend_job_id = null
            from pair p where j.id = p.job_id
            returning j.*, p.scheduler_id
          ), held as (
            update scheduler s set status = 'BUSY', job_id = p.job_id, sweep_pending = false, updated_at = now(),
              lease_until = now() + ${leaseInterval(this.config.netLeaseMs)}
            from pair p where s.id = p.scheduler_id
          )
          select ${JOB_COLUMNS}, j.claim_token as "claimToken", j.scheduler_id as "schedulerId",
            array(select trust_id::text from job_trust where job_id = j.id) as "trustIds"
          from claimed j order by j.seq`,
    );
    return rows.map(({ claimToken, schedulerId, trustIds, ...job }) => ({ job, claimToken, schedulerId, trustIds }));
  }
}
