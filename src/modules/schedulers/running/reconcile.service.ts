import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { PickupSignal } from '../../../common/pickup-signal.js';
import { query, sql } from '../../../database/sql.js';
import { NetClient, type NetRun } from '../../../fl-backends/net-client.js';
import { endRuns } from '../../jobs/lifecycle/end-runs.js';
import { JOB, PHASE } from '../../jobs/lifecycle/fragments.js';
import { clearRunMissing, markRunMissing } from '../../jobs/lifecycle/run-missing.js';
import { EndReason, JobStatus } from '../../jobs/lifecycle/states.js';
import { ModelStatus } from '../../models/model-status.js';
import { NetSweeper } from '../net-state/net-sweeper.service.js';
import { endTimedOutRun, lockTimedOutRun, runsPastTheirLimit } from '../../jobs/lifecycle/time-out-run.js';

interface RunningJob {
  jobId: string;
  netId: string;
  claimToken: string;
  backendJobId: string;
  netName: string;
  endpoint: string;
  missingForMs: number | null;
}

export interface ReconcileResult {
  completed: number;
  failed: number;
  unreachableNets: number;
  /** runs past their run-time limit, ended TIMED_OUT (their nets swept: the run aborted, the net freed) */
  timedOut: number;
  swept: number;
}

/**
 * Asks each busy net what became of its runs (`/list_jobs`) and applies it:
 * FINISHED completes the job; FAILED or STOPPED removes it (DELETED, endReason
 * RUN_FAILED) and errors the model; a run the
 * net no longer lists for RUN_MISSING_GRACE_MS (e.g. the net restarted) is
 * treated as failed. Then a run past its run-time limit (`maxRuntimeSeconds`,
 * else MAX_RUNTIME_S) is timed out: its job DELETED (TIMED_OUT), its net swept
 * — the run aborted there and the net freed — in the same pass. Every write
 * is compare-and-set on the claim.
 */
@Injectable()
export class ReconcileService {
  private readonly logger = new Logger('Reconcile');

  constructor(
    private readonly em: EntityManager,
    private readonly nets: NetClient,
    private readonly sweeper: NetSweeper,
    private readonly pickup: PickupSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async reconcile(): Promise<ReconcileResult> {
    const running = await query<RunningJob>(
      this.em.fork(),
      sql`select j.id as "jobId", j.net_id as "netId", j.claim_token as "claimToken", j.backend_job_id as "backendJobId",
            n.name as "netName", n.endpoint,
            (extract(epoch from now() - j.missing_since) * 1000)::float8 as "missingForMs"
          from job j join net n on n.id = j.net_id
          where j.status = ${JOB.IN_PROGRESS} and j.start_phase = ${PHASE.RUNNING}`,
    );
    const byNet = Map.groupBy(running, (r) => r.endpoint);
    const result: ReconcileResult = { completed: 0, failed: 0, unreachableNets: 0, timedOut: 0, swept: 0 };
    await Promise.all(
      [...byNet.values()].map(async (jobs) => {
        let runs: NetRun[];
        try {
          runs = await this.nets.listJobs({ name: jobs[0].netName, endpoint: jobs[0].endpoint });
        } catch (error) {
          result.unreachableNets += 1;
          this.logger.warn(String(error));
          return;
        }
        const statusById = new Map(runs.map((r) => [r.job_id, r.status]));
        for (const job of jobs) await this.apply(job, statusById.get(job.backendJobId), result);
        await this.abortOrphans(jobs, runs);
      }),
    );
    // after the nets' own word: a run its net reported FINISHED just now completed rather than timed out
    result.timedOut = await this.timeOut();
    result.swept = await this.sweeper.sweepAll();
    if (result.completed + result.failed > 0) this.pickup.changed();
    return result;
  }

  /**
   * Times out the runs past their limit, each in its own transaction: the job
   * locked, its run aborted on the net, then the job DELETED (TIMED_OUT) and
   * its net held for the sweep, which frees it. A net that cannot be reached
   * still gets the job ended; its net stays held until a later sweep aborts
   * the run there.
   */
  private async timeOut(): Promise<number> {
    const { maxRuntimeSeconds, netLeaseMs } = this.config;
    const candidates = await runsPastTheirLimit(this.em.fork(), maxRuntimeSeconds);
    const outcomes = await Promise.all(
      candidates.map(async ({ jobId }) => {
        const run = await this.em.fork().transactional(async (em) => {
          const locked = await lockTimedOutRun(em, jobId, maxRuntimeSeconds);
          if (!locked) return null;
          if (locked.backendJobId) await this.sweeper.abortRuns([{ net: locked.net, backendJobId: locked.backendJobId }]);
          return (await endTimedOutRun(em, locked, netLeaseMs)) ? locked : null;
        });
        if (!run) return false;
        this.logger.warn(
          `job ${run.jobId} ran past its limit of ${run.limitS} s on "${run.net.name}": run ${run.backendJobId ?? '(unknown)'} ` +
            `aborted, job removed (TIMED_OUT), model ${run.modelId} ERROR`,
        );
        await this.sweeper.sweep(run.schedulerId, run.net);
        return true;
      }),
    );
    return outcomes.filter(Boolean).length;
  }

  /**
   * An active run on a net that is not the run of the job the hub has there
   * (e.g. a submit that timed out on the hub's side but reached the net later)
   * is aborted, so that two runs never share a net. Only runs from this
   * listing are aborted, and only if the net still holds the same confirmed
   * job after the listing — a start in flight is never touched: a start
   * whose run is not yet known (SUBMITTING, or its job ended by a report
   * meanwhile) keeps its net, so no confirmed job can be on that net then.
   */
  private async abortOrphans(jobs: RunningJob[], runs: NetRun[]): Promise<void> {
    const known = new Set(jobs.map((j) => j.backendJobId));
    const orphans = runs.filter((r) => (r.status === 'PENDING' || r.status === 'RUNNING') && !known.has(r.job_id));
    if (orphans.length === 0) return;
    const still = await query(
      this.em.fork(),
      sql`select 1 from scheduler s join job j on j.id = s.job_id
          where s.net_id = ${jobs[0].netId} and j.claim_token = any(${jobs.map((j) => j.claimToken)}::uuid[])
            and j.status = ${JOB.IN_PROGRESS} and j.start_phase = ${PHASE.RUNNING}`,
    );
    if (still.length === 0) return;
    const net = { name: jobs[0].netName, endpoint: jobs[0].endpoint };
    for (const orphan of orphans) {
      this.logger.warn(`aborting orphan run ${orphan.job_id} on "${net.name}" (not the run of its job)`);
      await this.nets.abortJob(net, orphan.job_id).catch((error: unknown) => this.logger.warn(String(error)));
    }
  }

  private async apply(job: RunningJob, status: NetRun['status'] | undefined, result: ReconcileResult): Promise<void> {
    const em = this.em.fork();
    const target = { jobId: job.jobId, claimToken: job.claimToken };
    switch (status) {
      case 'FINISHED': {
        const ended = await endRuns(em, target, JobStatus.COMPLETED, null);
        result.completed += ended.length;
        return;
      }
      case 'FAILED':
      case 'STOPPED': {
        this.logger.warn(`run ${job.backendJobId} of job ${job.jobId} ended ${status} on "${job.netName}"`);
        const ended = await endRuns(em, target, JobStatus.DELETED, ModelStatus.ERROR, undefined, EndReason.RUN_FAILED);
        result.failed += ended.length;
        return;
      }
      case 'PENDING':
      case 'RUNNING':
        if (job.missingForMs !== null) {
          await clearRunMissing(em, target);
        }
        return;
      case undefined:
        if (job.missingForMs === null) {
          await markRunMissing(em, target);
        }
        if ((job.missingForMs ?? 0) >= this.config.runMissingGraceMs) {
          this.logger.warn(`run ${job.backendJobId} of job ${job.jobId} is gone from "${job.netName}"; treating it as failed`);
          const ended = await endRuns(em, target, JobStatus.DELETED, ModelStatus.ERROR, undefined, EndReason.RUN_FAILED);
          result.failed += ended.length;
        }
        return;
    }
  }
}
