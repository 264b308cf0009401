import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import type { ProjectScope } from '../../../common/auth/scopes.js';
import { notFound } from '../../../common/errors.js';
import { PickupSignal } from '../../../common/pickup-signal.js';
import { query, queryOne, sql } from '../../../database/sql.js';
import { endRuns } from '../../jobs/lifecycle/end-runs.js';
import { JOB } from '../../jobs/lifecycle/fragments.js';
import { removeJobsWithoutRun } from '../../jobs/lifecycle/remove-jobs-without-run.js';
import { EndReason, JobStatus, StartPhase } from '../../jobs/lifecycle/states.js';
import { JOB_COLUMNS, type JobRow } from '../../jobs/job.sql.js';
import type { ModelStatus } from '../../models/model-status.js';
import { assertJobInScope, assertModelInScope } from '../../models/project-scope.sql.js';
import { NetSweeper } from '../net-state/net-sweeper.service.js';
import { lockModelForRunChange } from './model-lock.js';

interface LiveRun {
  jobId: string;
  phase: StartPhase;
  backendJobId: string | null;
  schedulerId: string | null;
  netName: string;
  endpoint: string;
}

/**
 * Removing jobs (DELETED), including running ones. A job that has (or may
 * have) a run on its net releases the net only through a sweep: the run is
 * aborted after the commit and the net freed once nothing runs there; with the
 * net unreachable the removal still succeeds and the sweep retries later.
 */
@Injectable()
export class JobRemovalService {
  private readonly logger = new Logger('JobRemoval');

  constructor(
    private readonly em: EntityManager,
    private readonly sweeper: NetSweeper,
    private readonly pickup: PickupSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `remove_job`: the job → DELETED, started_at cleared; a running job's run is aborted and its net released. */
  async removeJob(id: string, scope: ProjectScope): Promise<JobRow> {
    await assertJobInScope(this.em.fork(), scope, id);
    const { job, afterCommit } = await this.em.fork().transactional(async (em) => {
      const current = await queryOne<JobRow>(em, sql`select ${JOB_COLUMNS} from job j where j.id = ${id} for update`);
      if (!current) throw notFound('Job', id);
      const { removed, afterCommit } = await this.removeInTransaction(em, { jobId: id }, null);
      return { job: removed[0] ?? current, afterCommit };
    });
    await afterCommit().catch((error: unknown) => this.logger.warn(`after removing job ${id}: ${String(error)}`));
    return job;
  }

  /** `remove_job_from_queue`: every non-deleted job of the model → DELETED; returns how many. */
  async removeJobsForModel(modelId: string, scope: ProjectScope): Promise<number> {
    await assertModelInScope(this.em.fork(), scope, modelId);
    const { count, afterCommit } = await this.em.fork().transactional(async (em) => {
      const model = await lockModelForRunChange(em, modelId);
      if (!model) throw notFound('Model', modelId);
      const { removed, afterCommit } = await this.removeInTransaction(em, { modelId }, null);
      return { count: removed.length, afterCommit };
    });
    await afterCommit().catch((error: unknown) => this.logger.warn(`after removing jobs of model ${modelId}: ${String(error)}`));
    return count;
  }

  /**
   * Sets the selected non-deleted jobs to DELETED (started_at cleared) in one
   * transaction, run inside `em` (the caller's transaction, which must lock the
   * job or model first). Returns the removed jobs and what to do after commit.
   */
  async removeInTransaction(
    em: EntityManager,
    target: { jobId: string } | { modelId: string },
    modelStatus: ModelStatus | null,
    endReason: EndReason.REMOVED | EndReason.STOPPED = EndReason.REMOVED,
  ): Promise<{ removed: JobRow[]; afterCommit: () => Promise<void> }> {
    const jobId = 'jobId' in target ? target.jobId : null;
    const modelId = 'modelId' in target ? target.modelId : null;
    const live = await query<LiveRun>(
      em,
      sql`select j.id as "jobId", j.start_phase as phase, j.backend_job_id as "backendJobId",
            s.id as "schedulerId", n.name as "netName", n.endpoint
          from job j join net n on n.id = j.net_id left join scheduler s on s.job_id = j.id
          where j.status = ${JOB.IN_PROGRESS}
            and (${jobId}::uuid is null or j.id = ${jobId}::uuid) and (${modelId}::uuid is null or j.model_id = ${modelId}::uuid)
          for update of j`,
    );
    const removed: JobRow[] = [];
    for (const run of live) {
      const mayRunOnNet = run.phase !== StartPhase.CLAIMED;
      removed.push(
        ...(await endRuns(
          em,
          { jobId: run.jobId },
          JobStatus.DELETED,
          modelStatus,
          mayRunOnNet ? { leaseMs: this.config.netLeaseMs } : undefined,
          endReason,
        )),
      );
    }
    removed.push(...(await removeJobsWithoutRun(em, { jobId, modelId }, endReason)));
    const afterCommit = async (): Promise<void> => {
      const withRuns = live.filter((r) => r.phase !== StartPhase.CLAIMED);
      await this.sweeper.abortRuns(
        withRuns
          .filter((r) => r.backendJobId !== null)
          .map((r) => ({ net: { name: r.netName, endpoint: r.endpoint }, backendJobId: r.backendJobId as string })),
      );
      await Promise.all(
        withRuns
          .filter((r) => r.schedulerId !== null)
          .map((r) => this.sweeper.sweep(r.schedulerId as string, { name: r.netName, endpoint: r.endpoint })),
      );
      if (live.length > withRuns.length) this.pickup.changed();
    };
    return { removed, afterCommit };
  }
}
