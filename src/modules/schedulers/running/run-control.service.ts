import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import type { NetScope, ProjectScope } from '../../../common/auth/scopes.js';
import { conflict, notFound } from '../../../common/errors.js';
import { PickupSignal } from '../../../common/pickup-signal.js';
import { query, queryOne, sql } from '../../../database/sql.js';
import { endRuns } from '../../jobs/lifecycle/end-runs.js';
import { EndReason, JobStatus } from '../../jobs/lifecycle/states.js';
import { decideReportedStatus, ModelStatus } from '../../models/model-status.js';
import type { TrainingModel } from '../../models/models.model.js';
import type { JobRow } from '../../jobs/job.sql.js';
import { JobRemovalService } from './job-removal.service.js';
import { MODEL_COLUMNS, type ModelRow } from '../../models/model.sql.js';
import { assertModelInScope } from '../../models/project-scope.sql.js';
import { lockReportedRun } from './reported-run.js';
import { lockModelForRunChange } from './model-lock.js';

export interface DeploymentMode {
  enabled: boolean;
  since: Date | null;
}

/** What happens to a model's training from outside the cycle: status reports from nets, stops, deployment mode. */
@Injectable()
export class RunControlService {
  private readonly logger = new Logger('RunControl');

  constructor(
    private readonly em: EntityManager,
    private readonly removal: JobRemovalService,
    private readonly pickup: PickupSignal,
  ) {}

  /**
   * `update_fl_scheduler`: the model's running job COMPLETED, its net
   * AVAILABLE — or, when the report overtakes the start (submit_job not
   * answered yet), left to the start, which frees it (`endRuns`). Null when nothing runs.
   */
  async updateFlScheduler(modelId: string, reporter: NetScope): Promise<JobRow | null> {
    const ended = await this.em.fork().transactional(async (em) => {
      await this.lockModel(em, modelId);
      return endRuns(em, await lockReportedRun(em, modelId, reporter), JobStatus.COMPLETED, null);
    });
    if (ended.length > 0) this.pickup.changed();
    return ended.at(-1) ?? null;
  }

  /**
   * A status reported by a net. Entering ERROR, STOPPED, RESULTS_UPLOADED or
   * RESULTS_UPLOAD_FAILED completes the model's running job and frees its net
   * (once: the job is compare-and-set IN_PROGRESS → COMPLETED; a report that
   * overtakes the start leaves the net to the start, as `updateFlScheduler`). Repeats, and
   * anything reported after STOPPED, are ignored; impossible moves are CONFLICT.
   * A net may report only while the model's job runs on it (else FORBIDDEN).
   */
  async updateModelStatus(modelId: string, status: ModelStatus, reporter: NetScope): Promise<TrainingModel> {
    let freed = false;
    const model = await this.em.fork().transactional(async (em) => {
      const current = await this.lockModel(em, modelId);
      const runs = await lockReportedRun(em, modelId, reporter);
      const decision = decideReportedStatus(current.status, status);
      switch (decision.kind) {
        case 'ignore':
          return current;
        case 'reject':
          throw conflict(decision.reason, { from: current.status, to: status });
        case 'apply': {
          if (decision.endsRun) freed = (await endRuns(em, runs, JobStatus.COMPLETED, null)).length > 0;
          const updated = await queryOne<ModelRow>(
            em,
            sql`update model m set status = ${status}, updated_at = now() where id = ${modelId} returning ${MODEL_COLUMNS}`,
          );
          return updated!;
        }
      }
    });
    if (freed) this.pickup.changed();
    return model;
  }

  /**
   * Stops a model's training: its jobs are removed, the model is STOPPED, and
   * the run is aborted on its net (`/abort_job`) after the commit. Succeeds
   * with the net unreachable: the net is then held until a sweep can abort.
   * A model outside the scope is FORBIDDEN.
   */
  async stopTraining(modelId: string, scope: ProjectScope): Promise<TrainingModel> {
    await assertModelInScope(this.em.fork(), scope, modelId);
    const { model, afterCommit } = await this.em.fork().transactional(async (em) => {
      await this.lockModel(em, modelId);
      const { afterCommit: abortRuns } = await this.removal.removeInTransaction(em, { modelId }, null, EndReason.STOPPED);
      const stopped = await queryOne<ModelRow>(
        em,
        sql`update model m set status = 'STOPPED', updated_at = now() where id = ${modelId} returning ${MODEL_COLUMNS}`,
      );
      return { model: stopped!, afterCommit: abortRuns };
    });
    await afterCommit().catch((error: unknown) => this.logger.warn(`after stopping model ${modelId}: ${String(error)}`));
    return model;
  }

  async getDeploymentMode(): Promise<DeploymentMode> {
    const row = await queryOne<{ enabled: boolean; since: Date | null }>(
      this.em.fork(),
      sql`select coalesce((value->>'enabled')::boolean, false) as enabled, updated_at as since
          from hub_setting where key = 'deployment_mode'`,
    );
    return row ?? { enabled: false, since: null };
  }

  /** Deployment mode on: running jobs finish, nothing new is picked up. Off: pickup resumes at once. */
  async setDeploymentMode(enabled: boolean): Promise<DeploymentMode> {
    await query(
      this.em.fork(),
      sql`insert into hub_setting (key, value, updated_at) values ('deployment_mode', ${JSON.stringify({ enabled })}::jsonb, now())
          on conflict (key) do update set value = excluded.value,
            updated_at = case when hub_setting.value = excluded.value then hub_setting.updated_at else now() end`,
    );
    this.logger.log(`deployment mode ${enabled ? 'on: pickup paused' : 'off: pickup resumed'}`);
    if (!enabled) this.pickup.request(); // a setting, not announced by the database
    return this.getDeploymentMode();
  }

  /** The model, locked after its live jobs (the one lock order: see lockModelForRunChange). */
  private async lockModel(em: EntityManager, modelId: string): Promise<TrainingModel> {
    const model = await lockModelForRunChange(em, modelId);
    if (!model) throw notFound('Model', modelId);
    return model;
  }
}
