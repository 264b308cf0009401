import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { CompiledQuery } from 'kysely';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { conflict, notFound } from '../../../common/errors.js';
import { HUB_INSTANCE_NAME } from '../../../database/database.tokens.js';
import { queryOne, sql } from '../../../database/sql.js';
import { admissionPredicates } from '../../jobs/admission.sql.js';
import type { Claim } from '../../jobs/lifecycle/claim.js';
import { claimFreeNet } from '../../jobs/lifecycle/claim-free-net.js';
import { claimJobForNet } from '../../jobs/lifecycle/claim-job-for-net.js';
import {
  claimNextJobs,
  claimsOfFirstStatement,
  firstClaimStatement,
  nextJobForNet,
  type FirstClaimRow,
} from '../../jobs/lifecycle/claim-next-jobs.js';
import type { FairReach } from '../../jobs/lifecycle/claim-candidates.sql.js';
import { oneTripTransaction } from '../../../database/one-trip-transaction.js';
import { takeClaimTurn, TRY_CLAIM_TURN } from '../net-state/claim-lock.js';
import { freeNet } from '../../jobs/lifecycle/free-net.js';
import { requeueClaimedJob } from '../../jobs/lifecycle/requeue-claimed-job.js';
import { retireInvalidQueuedJobs } from '../../jobs/lifecycle/retire-invalid-queued-jobs.js';
import { SchedulerStatus, StartPhase } from '../../jobs/lifecycle/states.js';
import type { SchedulerModel } from '../net-state/scheduler.model.js';
import { SCHEDULER_COLUMNS } from '../net-state/scheduler.sql.js';

/**
 * Claims nets and jobs. Every claim is a transaction that takes the claim
 * lock (`claim-lock.ts`) and then one statement (the fair claim a second one
 * when its first could not tell the first jobs of the queue), so any number of hub
 * instances can claim without taking the same net or job, and each claim
 * counts every job the others started (capacity, fair share). The cycle's
 * claim is, as a rule, one round trip (`oneTripTransaction`).
 */
@Injectable()
export class ClaimService {
  private readonly logger = new Logger('Claim');
  /** the cycle's first claim statement, compiled once: its text and values follow only the settings and the instance */
  private firstClaim: CompiledQuery<FirstClaimRow> | undefined;

  constructor(
    private readonly em: EntityManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(HUB_INSTANCE_NAME) private readonly instanceName: string,
  ) {}

  /**
   * The cycle's claim, in ONE statement as a rule (see `claimNextJobs`):
   * the oldest valid QUEUED jobs that may start now, each paired with a free
   * net where its clients are online, each pair IN_PROGRESS / BUSY with a
   * lease (`claimNextJobs`; the admission's predicates: `admission.sql.ts`). A net is never committed
   * BUSY without its job. Jobs naming a trust no longer approved are skipped
   * (they never block the queue) and retired by `retireInvalidQueuedJobs`.
   * The result carries what the start needs (net, project, cohort query, slots).
   *
   * One round trip when the claim lock is free (what it is unless another
   * instance is claiming this instant): `begin`, a try at the lock, the
   * first claim statement, `commit`, sent as one message (`oneTripTransaction`;
   * the statement takes nothing unless the try got the lock). Otherwise a
   * transaction that waits for the lock and claims: when the lock is held
   * elsewhere, when the fair claim's front fell short, when sessions keep no
   * prepared statements (DB_PREPARED_STATEMENTS=false), and inside a caller's
   * transaction. `proceed` is asked once that waited-for lock is held: false
   * claims nothing.
   */
  async claimBatch(proceed: () => boolean = () => true): Promise<Claim[]> {
    const admission = admissionPredicates(this.config);
    let reach: FairReach = 'front';
    const em = this.em.fork();
    // a claim inside a caller's transaction (a rolled-back measurement) runs in it, never in a session of its own
    if (this.config.dbPreparedStatements && !em.isInTransaction()) {
      this.firstClaim ??= firstClaimStatement(this.claimer(), admission, this.config).compile(em.getKysely());
      const first = await oneTripTransaction<{ turn: boolean }, FirstClaimRow>(em, TRY_CLAIM_TURN, this.firstClaim);
      if (first.prelude.turn) {
        const claims = claimsOfFirstStatement(first.rows);
        if (claims) return claims;
        reach = 'every'; // the fair claim's front fell short and claimed nothing
      }
    }
    return em.transactional(async (tx) => {
      await takeClaimTurn(tx);
      // the turn may have been waited for: a hub that began shutting down meanwhile claims nothing
      if (!proceed()) return [];
      return claimNextJobs(tx, this.claimer(), admission, this.config, reach);
    });
  }

  /** Retires (DELETED; model ERROR unless it has another live job) every queued job naming a trust no longer approved. */
  async retireInvalidQueuedJobs(em: EntityManager = this.em.fork()): Promise<number> {
    const retired = await retireInvalidQueuedJobs(em);
    if (retired.length > 0) {
      this.logger.warn(
        `retired ${retired.length} queued job(s) naming trusts not approved for their model: ${retired.map((r) => r.id).join(', ')}`,
      );
    }
    return retired.length;
  }

  /** `check_for_available_net`: claims one AVAILABLE net (not drained), held by a lease until a job is claimed for it. */
  async checkForAvailableNet(): Promise<SchedulerModel | null> {
    const row = await claimFreeNet(this.em.fork(), this.config.netLeaseMs, SCHEDULER_COLUMNS);
    return row ?? null;
  }

  /** `check_for_queued_jobs`: for a net claimed by `checkForAvailableNet`, claims the oldest valid QUEUED job. */
  async checkForQueuedJobs(schedulerId: string): Promise<Claim | null> {
    return this.em.fork().transactional(async (em) => {
      await takeClaimTurn(em);
      const scheduler = await queryOne<{
        id: string;
        netId: string;
        status: SchedulerStatus;
        jobId: string | null;
        sweepPending: boolean;
      }>(
        em,
        sql`select id, net_id as "netId", status, job_id as "jobId", sweep_pending as "sweepPending"
            from scheduler where id = ${schedulerId} for update`,
      );
      if (!scheduler) throw notFound('Scheduler', schedulerId);
      if (scheduler.status !== SchedulerStatus.BUSY || scheduler.jobId !== null || scheduler.sweepPending) {
        throw conflict('the scheduler is not claimed (call claimAvailableNet first) or already holds a job', { schedulerId });
      }
      const jobId = await this.takeValidQueuedJob(em, scheduler.id);
      if (jobId === undefined) return null;
      return claimJobForNet(em, { jobId, schedulerId: scheduler.id, netId: scheduler.netId }, this.claimer());
    });
  }

  /**
   * `revert_scheduler_pickup`: the net goes back to AVAILABLE with no job. A
   * job claimed on it but not yet started there goes back to the queue; a net
   * running a started run is refused (stop or complete the training instead).
   */
  async revertSchedulerPickup(schedulerId: string): Promise<SchedulerModel> {
    return this.em.fork().transactional(async (em) => {
      const current = await queryOne<{ jobId: string | null; phase: StartPhase | null }>(
        em,
        sql`select s.job_id as "jobId", j.start_phase as phase from scheduler s
            left join job j on j.id = s.job_id where s.id = ${schedulerId} for update of s`,
      );
      if (!current) throw notFound('Scheduler', schedulerId);
      if (current.jobId !== null && current.phase !== StartPhase.CLAIMED) {
        throw conflict('the net has a started run; use stopTraining or completeTraining', { jobId: current.jobId });
      }
      if (current.jobId !== null) await requeueClaimedJob(em, current.jobId);
      const row = await freeNet(em, schedulerId, SCHEDULER_COLUMNS);
      return row!;
    });
  }

  /**
   * The job the claim would give net `schedulerId` now (the first in dispatch
   * order that may start there; the caller holds the claim lock); invalid
   * queued jobs are retired first.
   */
  private async takeValidQueuedJob(em: EntityManager, schedulerId: string): Promise<string | undefined> {
    await this.retireInvalidQueuedJobs(em);
    return nextJobForNet(em, schedulerId, admissionPredicates(this.config), this.config);
  }

  private claimer() {
    return { instanceName: this.instanceName, leaseMs: this.config.netLeaseMs };
  }
}
