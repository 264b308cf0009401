import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { conflict, notFound } from '../../../common/errors.js';
import { HUB_INSTANCE_NAME } from '../../../database/database.tokens.js';
import { query, queryOne, sql } from '../../../database/sql.js';
import { admissionPredicates, FREE_NET_TEXT, JOB_MAY_START_TEXT } from '../../jobs/admission.sql.js';
import { JOB_COLUMNS, type JobRow } from '../../jobs/job.sql.js';
import type { SchedulerModel } from '../net-state/scheduler.model.js';
import type { Claim, StartDetails } from '../running/start-details.js';
import {
  leaseInterval,
  NOT_DRAINED,
  PICKUP_PAUSED,
  SCHEDULER_COLUMNS,
  type SchedulerRow,
  UNAPPROVED_TRUST,
} from '../net-state/scheduler.sql.js';

/** How many queued jobs the claim considers per free net (jobs whose clients fit no net left over are passed by). */
const CANDIDATES_PER_NET = 4;

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
    @Inject(HUB_INSTANCE_NAME) private readonly instanceName: string,
  ) {}

  /**
   * The cycle's claim, in ONE statement (so one round trip and one commit).
   * The free nets that take jobs (not drained, no failed call waiting for its
   * probe) are locked with FOR UPDATE SKIP LOCKED, then the oldest QUEUED jobs
   * that may start now (`admissionPredicates`: their backoff over, and a free
   * net where their clients are online). Each job in queue order takes the
   * first free net (longest free first) where its clients are online and no
   * earlier job went (`walk`): a job whose clients are offline on one net
   * goes to another, and a net no job can use now is not used up. Each pair
   * is set IN_PROGRESS / BUSY with its job and a lease; a net is never
   * committed BUSY without its job. Jobs naming a trust no longer approved
   * are skipped here (they never block the queue) and retired by
   * `retireInvalidQueuedJobs`. The result carries what the start needs
   * (net, project, cohort query, slots).
   */
  async claimBatch(): Promise<Claim[]> {
    const { clientsReady, runnableNow } = admissionPredicates(this.config);
    const rows = await query<ClaimRow>(
      this.em.fork(),
      sql`with recursive free as (
            select id, net_id, row_number() over (order by updated_at, id) as ord
            from (select s.id, s.net_id, s.updated_at from scheduler s join net n on n.id = s.net_id
                  where ${sql.raw(FREE_NET_TEXT)}
                  order by s.updated_at, s.id
                  for update of s skip locked) f
          ), candidates as (
            select id, row_number() over (order by seq) as rn
            from (select j.id, j.seq from job j
                  where j.status = 'QUEUED' and not ${UNAPPROVED_TRUST} and ${sql.raw(runnableNow)}
                  order by j.seq
                  -- a few more jobs than nets: a job that fits no net left over does not waste it
                  limit (select ${CANDIDATES_PER_NET} * count(*) from free)
                  for update of j skip locked) c
          ), fits as (
            select c.rn, f.id as scheduler_id, f.net_id, f.ord
            from candidates c join job j on j.id = c.id cross join free f join net n on n.id = f.net_id
            where ${sql.raw(clientsReady)}
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
          ), ${this.assignPairs()}`,
    );
    return rows.map(toClaim);
  }

  /** Retires (DELETED; model ERROR unless it has another live job) every queued job naming a trust no longer approved. */
  async retireInvalidQueuedJobs(em: EntityManager = this.em.fork()): Promise<number> {
    const retired = await query<{ id: string }>(
      em,
      sql`with retired as (
            update job set status = 'DELETED', end_reason = 'UNAPPROVED_TRUST'
            where id in (select j.id from job j where j.status = 'QUEUED' and ${UNAPPROVED_TRUST} for update of j skip locked)
            returning id, model_id
          ), errored as (
            update model m set status = 'ERROR', updated_at = now()
            where m.id in (select model_id from retired) and m.status <> 'STOPPED'
              and not exists (select 1 from job o where o.model_id = m.id and o.status in ('QUEUED', 'IN_PROGRESS')
                              and o.id not in (select id from retired))
          )
          select id from retired`,
    );
    if (retired.length > 0) {
      this.logger.warn(
        `retired ${retired.length} queued job(s) naming trusts not approved for their model: ${retired.map((r) => r.id).join(', ')}`,
      );
    }
    return retired.length;
  }

  /** `check_for_available_net`: claims one AVAILABLE net (not drained), held by a lease until a job is claimed for it. */
  async checkForAvailableNet(): Promise<SchedulerModel | null> {
    const row = await queryOne<SchedulerRow>(
      this.em.fork(),
      sql`update scheduler s set status = 'BUSY', lease_until = now() + ${leaseInterval(this.config.netLeaseMs)}, updated_at = now()
          where s.id = (select id from scheduler where status = 'AVAILABLE' and ${NOT_DRAINED} and not ${PICKUP_PAUSED}
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
      const jobId = await this.takeValidQueuedJob(em, scheduler.netId);
      if (jobId === undefined) return null;
      const [row] = await query<ClaimRow>(
        em,
        sql`with pair as (select ${jobId}::uuid as job_id, ${scheduler.id}::uuid as scheduler_id, ${scheduler.netId}::uuid as net_id),
            ${this.assignPairs()}`,
      );
      return toClaim(row);
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
      const row = await queryOne<SchedulerRow>(
        em,
        sql`update scheduler s set status = 'AVAILABLE', job_id = null, lease_until = null, sweep_pending = false, updated_at = now()
            where s.id = ${schedulerId} returning ${SCHEDULER_COLUMNS}`,
      );
      return row!;
    });
  }

  /** The oldest valid QUEUED job that may start on net `netId` now, locked; invalid ones in front of it are retired first. */
  private async takeValidQueuedJob(em: EntityManager, netId: string): Promise<string | undefined> {
    await this.retireInvalidQueuedJobs(em);
    const { clientsReady } = admissionPredicates(this.config);
    const head = await queryOne<{ id: string }>(
      em,
      sql`select j.id from job j join net n on n.id = ${netId}
          where j.status = 'QUEUED' and not ${UNAPPROVED_TRUST} and ${sql.raw(JOB_MAY_START_TEXT)} and ${sql.raw(clientsReady)}
          order by j.seq limit 1 for update of j skip locked`,
    );
    return head?.id;
  }

  /** The tail of a claim statement: `pair (job_id, scheduler_id, net_id)` must be defined before it. */
  private assignPairs() {
    return sql`claimed as (
        update job j set status = 'IN_PROGRESS', net_id = p.net_id, started_at = clock_timestamp(), attempts = j.attempts + 1,
          retry_at = null,
          claim_token = gen_random_uuid(), start_phase = 'CLAIMED', missing_since = null, backend_job_id = null,
          claimed_by = ${this.instanceName}
        from pair p where j.id = p.job_id
        returning j.*, p.scheduler_id
      ), held as (
        update scheduler s set status = 'BUSY', job_id = p.job_id, sweep_pending = false, updated_at = now(),
          lease_until = now() + ${leaseInterval(this.config.netLeaseMs)}
        from pair p where s.id = p.scheduler_id
      )
      select ${JOB_COLUMNS}, j.claim_token as "claimToken", j.scheduler_id as "schedulerId",
        n.name as "netName", n.endpoint, n.fl_backend as "flBackend", m.project_id as "projectId",
        (select query from cohort_query where project_id = m.project_id order by seq desc limit 1) as "cohortQuery",
        (select coalesce(json_agg(json_build_object('trustId', jt.trust_id, 'slotName', k.slot_name)
                                  order by k.slot_number nulls last, jt.trust_id), '[]'::json)
         from job_trust jt left join kit_slot k on k.assigned_trust_id = jt.trust_id where jt.job_id = j.id) as slots
      from claimed j join net n on n.id = j.net_id join model m on m.id = j.model_id
      order by j.seq`;
  }
}

type ClaimRow = JobRow & { claimToken: string; schedulerId: string } & StartDetails;

function toClaim(row: ClaimRow): Claim {
  const { claimToken, schedulerId, netName, endpoint, flBackend, projectId, cohortQuery, slots, ...job } = row;
  return {
    job,
    claimToken,
    schedulerId,
    trustIds: slots.map((s) => s.trustId),
    details: { netName, endpoint, flBackend, projectId, cohortQuery, slots },
  };
}
