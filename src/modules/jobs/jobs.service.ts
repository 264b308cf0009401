import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import type { ProjectScope } from '../../common/auth/scopes.js';
import { badInput, conflict, notFound } from '../../common/errors.js';
import { PickupSignal } from '../../common/pickup-signal.js';
import { assertUuidList } from '../../common/validation.js';
import { query, sql } from '../../database/sql.js';
import { assertJobInScope, assertModelInScope, modelInScope } from '../models/project-scope.sql.js';
import { type JobPriority, JobStatus } from './lifecycle/states.js';
import { JOB_COLUMNS, type JobRow } from './job.sql.js';
import { type QueuedJobRow, withQueueState } from './queue-state.sql.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { RawBuilder } from 'kysely';
import { type JobRequest, queueJob, type QueueOutcome } from './lifecycle/queue-job.js';
import { setQueuedJobPriority } from './lifecycle/set-job-priority.js';
import { isUniqueViolation, LIVE_JOB_INDEX, liveJobConflict } from './live-job-conflict.js';
import { preload } from '../../graphql/preloaded-fields.js';

/** The most jobs one `jobs` request returns; page on with `after`. */
export const MAX_JOBS_PAGE = 10_000;

@Injectable()
export class JobsService {
  constructor(
    private readonly em: EntityManager,
    private readonly pickup: PickupSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Queues a training job (`request`: its priority, start time and run-time
   * limit, validated by `toJobRequest`). Unknown model → NOT_FOUND; an empty or duplicate
   * list, an unknown trust or one not approved for the model → BAD_USER_INPUT,
   * a model outside the scope → FORBIDDEN, a model that already has a live
   * (QUEUED or IN_PROGRESS) job → CONFLICT, and nothing is written. The answer
   * is the job as queued; when the request asks for its place in the
   * dispatch order or why it waits, these are read in one statement inside the
   * queueing transaction (no claim can take the job before the answer is read).
   */
  async queueTraining(
    modelId: string,
    trustIdsInput: string[],
    request: JobRequest,
    scope: ProjectScope,
    queueState = true,
  ): Promise<JobRow> {
    const trustIds = assertUuidList(trustIdsInput, 'trustIds', { allowEmpty: false });
    await assertModelInScope(this.em.fork(), scope, modelId);
    // one statement: checks and inserts commit together or not at all. Without queue state asked, its own
    // answer is the job as queued and it commits alone; with it, the state is read before the commit, so
    // it is the job as queued (no claim can take it yet), placed in the queue as that read saw it
    const job = queueState
      ? await this.em.fork().transactional(async (em) => {
          const queued = await this.queueChecked(em, modelId, trustIds, request);
          const [positioned] = await this.withState(
            em,
            sql`select ${JOB_COLUMNS}, j.seq from job j where j.id = ${queued.id}`,
            true,
          );
          return positioned;
        })
      : {
          ...(await this.queueChecked(this.em.fork(), modelId, trustIds, request)),
          queuePosition: null,
          pendingReason: null,
          pendingDetail: null,
        };
    this.pickup.changed();
    if (job.notBefore) this.pickup.startsAt(new Date(job.notBefore));
    return job;
  }

  /** `queueJob`, its failed checks as errors (nothing was written then); the job as the statement queued it. */
  private async queueChecked(em: EntityManager, modelId: string, trustIds: string[], request: JobRequest): Promise<JobRow> {
    let outcome: QueueOutcome | undefined;
    try {
      outcome = await queueJob(em, modelId, trustIds, request);
    } catch (error) {
      // two requests for one model at once: the partial unique index lets one insert through
      if (isUniqueViolation(error, LIVE_JOB_INDEX)) throw liveJobConflict(modelId, null);
      throw error;
    }
    if (!outcome?.modelFound) throw notFound('Model', modelId);
    if (outcome.unknown.length > 0) {
      throw badInput(`unknown trust(s): ${outcome.unknown.join(', ')}`, { field: 'trustIds', unknown: outcome.unknown });
    }
    if (outcome.unapproved.length > 0) {
      throw badInput(`trust(s) not approved for this model: ${outcome.unapproved.join(', ')}`, {
        field: 'trustIds',
        unapproved: outcome.unapproved,
      });
    }
    if (outcome.liveJob) throw liveJobConflict(modelId, outcome.liveJob);
    const { createdAt, notBefore, ...job } = outcome.job!;
    // the statement's answer is JSON: its times come as text
    return { ...job, createdAt: new Date(createdAt), notBefore: notBefore === null ? null : new Date(notBefore) };
  }

  /**
   * A QUEUED job's priority (else CONFLICT; unknown → NOT_FOUND; outside the
   * scope → FORBIDDEN; nothing changes then). The answer is the job after the change.
   */
  async setJobPriority(jobId: string, priority: JobPriority, scope: ProjectScope, queueState = true): Promise<QueuedJobRow> {
    await assertJobInScope(this.em.fork(), scope, jobId);
    const outcome = await setQueuedJobPriority(this.em.fork(), jobId, priority);
    if (!outcome?.status) throw notFound('Job', jobId);
    if (!outcome.changed) {
      throw conflict(
        `job ${jobId} is ${outcome.status === JobStatus.QUEUED ? 'no longer QUEUED' : outcome.status}: only a QUEUED job's priority can change`,
        {
          field: 'jobId',
          status: outcome.status,
        },
      );
    }
    const job = await this.getJob(jobId, scope, queueState);
    if (!job) throw notFound('Job', jobId);
    return job;
  }

  /** The job with its queue position (one snapshot), or null when unknown or outside the scope. */
  async getJob(id: string, scope: ProjectScope, queueState = true): Promise<QueuedJobRow | null> {
    const [job] = await this.positioned(
      sql`select ${JOB_COLUMNS}, j.seq from job j where j.id = ${id} and ${modelInScope(scope, 'j.model_id')}`,
      queueState,
    );
    return job ?? null;
  }

  /** Jobs by id (any scope: the caller checks), each with its queue position. */
  async listJobsByIds(ids: readonly string[]): Promise<QueuedJobRow[]> {
    return this.positioned(sql`select ${JOB_COLUMNS}, j.seq from job j where j.id = any(${ids}::uuid[])`);
  }

  /** Jobs in scope, oldest first, optionally by status and model (filtered before the page limit). */
  async listJobs(
    filter: {
      status?: JobStatus | null;
      modelId?: string | null;
      first?: number | null;
      after?: string | null;
    },
    scope: ProjectScope,
    queueState = true,
  ): Promise<QueuedJobRow[]> {
    const first = filter.first ?? MAX_JOBS_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_JOBS_PAGE) {
      throw badInput(`first must be between 1 and ${MAX_JOBS_PAGE}`, { field: 'first' });
    }
    return this.positioned(
      sql`select ${JOB_COLUMNS}, j.seq from job j
          where (${filter.status ?? null}::text is null or j.status = ${filter.status ?? null})
            and (${filter.modelId ?? null}::uuid is null or j.model_id = ${filter.modelId ?? null}::uuid)
            and (${filter.after ?? null}::uuid is null or j.seq > (select seq from job where id = ${filter.after ?? null}::uuid))
            and ${modelInScope(scope, 'j.model_id')}
          order by j.seq limit ${first}`,
      queueState,
    );
  }

  /** The page's rows with their place in the queue and why they wait: the GraphQL fields answered from the same snapshot. */
  private positioned(page: RawBuilder<unknown>, queueState = true): Promise<QueuedJobRow[]> {
    return this.withState(this.em.fork(), page, queueState);
  }

  /**
   * `page`'s rows, with their queue state when `queueState` (the request
   * asks for a field of it); else the rows alone, and the queue is not read.
   */
  private async withState(em: EntityManager, page: RawBuilder<unknown>, queueState: boolean): Promise<QueuedJobRow[]> {
    if (!queueState) {
      const rows = await query<JobRow & { seq?: string }>(em, sql`select * from (${page}) page order by page.seq`);
      return rows.map(({ seq: _seq, ...row }) => ({ ...row, queuePosition: null, pendingReason: null, pendingDetail: null }));
    }
    const rows = await query(em, withQueueState(this.config, page));
    return rows.map(({ seq: _seq, ...row }: QueuedJobRow & { seq?: string }) =>
      preload(row, { queuePosition: row.queuePosition, pendingReason: row.pendingReason, pendingDetail: row.pendingDetail }),
    );
  }
}
