import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { ProjectScope } from '../../common/auth/scopes.js';
import { badInput, notFound } from '../../common/errors.js';
import { PickupSignal } from '../../common/pickup-signal.js';
import { assertUuidList } from '../../common/validation.js';
import { query, queryOne, sql } from '../../database/sql.js';
import { assertModelInScope, modelInScope } from '../models/project-scope.sql.js';
import { JOB } from './lifecycle/fragments.js';
import { queueJob } from './lifecycle/queue-job.js';
import type { JobStatus } from './lifecycle/states.js';
import { JOB_COLUMNS, type JobRow } from './job.sql.js';

/** The most jobs one `jobs` request returns; page on with `after`. */
export const MAX_JOBS_PAGE = 10_000;

@Injectable()
export class JobsService {
  constructor(
    private readonly em: EntityManager,
    private readonly pickup: PickupSignal,
  ) {}

  /**
   * Queues a training job. Unknown model → NOT_FOUND; an empty or duplicate
   * list, an unknown trust or one not approved for the model → BAD_USER_INPUT,
   * a model outside the scope → FORBIDDEN, and nothing is written.
   */
  async queueTraining(modelId: string, trustIdsInput: string[], scope: ProjectScope): Promise<JobRow> {
    const trustIds = assertUuidList(trustIdsInput, 'trustIds', { allowEmpty: false });
    await assertModelInScope(this.em.fork(), scope, modelId);
    const outcome = await queueJob(this.em.fork(), modelId, trustIds);
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
    const job = { ...outcome.job!, createdAt: new Date(outcome.job!.createdAt) };
    this.pickup.changed();
    return job;
  }

  /** The job, or null when unknown or outside the scope. */
  async getJob(id: string, scope: ProjectScope): Promise<JobRow | null> {
    const job = await queryOne<JobRow>(
      this.em.fork(),
      sql`select ${JOB_COLUMNS} from job j where j.id = ${id} and ${modelInScope(scope, 'j.model_id')}`,
    );
    return job ?? null;
  }

  async listJobsByIds(ids: readonly string[]): Promise<JobRow[]> {
    return query<JobRow>(this.em.fork(), sql`select ${JOB_COLUMNS} from job j where j.id = any(${ids}::uuid[])`);
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
  ): Promise<JobRow[]> {
    const first = filter.first ?? MAX_JOBS_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > MAX_JOBS_PAGE) {
      throw badInput(`first must be between 1 and ${MAX_JOBS_PAGE}`, { field: 'first' });
    }
    return query<JobRow>(
      this.em.fork(),
      sql`select ${JOB_COLUMNS} from job j
          where (${filter.status ?? null}::text is null or j.status = ${filter.status ?? null})
            and (${filter.modelId ?? null}::uuid is null or j.model_id = ${filter.modelId ?? null}::uuid)
            and (${filter.after ?? null}::uuid is null or j.seq > (select seq from job where id = ${filter.after ?? null}::uuid))
            and ${modelInScope(scope, 'j.model_id')}
          order by j.seq limit ${first}`,
    );
  }

  /** 1-based queue positions of the QUEUED jobs among `ids` (GraphQL batching). */
  async queuePositions(ids: readonly string[]): Promise<Array<{ id: string; position: number }>> {
    return query(
      this.em.fork(),
      sql`select j.id, (select count(*)::int from job q where q.status = ${JOB.QUEUED} and q.seq < j.seq) + 1 as position
          from job j where j.id = any(${ids}::uuid[]) and j.status = ${JOB.QUEUED}`,
    );
  }
}
