import type { EntityManager } from '@mikro-orm/postgresql';
import { queryOne, sql } from '../../../database/sql.js';
import { ModelStatus } from '../../models/model-status.js';
import { JOB_COLUMNS, type JobRow } from '../job.sql.js';
import type { JobPriority } from './states.js';
import { MODEL, oneOf } from './fragments.js';
import { JobState, lifecycleStatement, LIVE_JOB_STATUSES } from './transitions.js';

export const QUEUE_JOB = lifecycleStatement('queueJob', { job: [[JobState.NEW, JobState.QUEUED]] });

/** Models whose status a new job resets to PENDING. */
const RESTARTABLE = [ModelStatus.STOPPED, ModelStatus.ERROR, ModelStatus.RESULTS_UPLOADED, ModelStatus.RESULTS_UPLOAD_FAILED];

export interface QueueOutcome {
  modelFound: boolean;
  unknown: string[];
  unapproved: string[];
  /** the model's live job, when it has one (then nothing was written) */
  liveJob: string | null;
  job: (Omit<JobRow, 'createdAt' | 'notBefore'> & { createdAt: string; notBefore: string | null }) | null;
}

/** What a researcher asks of a job (`queueTraining(options)`), validated (`toJobRequest`). */
export interface JobRequest {
  priority: JobPriority;
  /** null: it may start at once */
  notBefore: Date | null;
  /** seconds, 0: no limit; null: the hub's MAX_RUNTIME_S */
  maxRuntimeS: number | null;
}

/**
 * Queues a job in one statement: the checks (model, trusts known and approved,
 * no live job of the model) and the writes (job with its priority, start time
 * and run-time limit, its trusts, the model back to PENDING) commit together
 * or not at all; the outcome says which check failed. The trusts are
 * checked by joins, not by a subquery per trust: for a list it cannot see,
 * PostgreSQL assumes ten entries, and with a subquery each the plan it could
 * keep looked three times dearer than one made for the call's values, so it
 * planned every call anew (0.7 ms, more than running the statement).
 */
export async function queueJob(
  em: EntityManager,
  modelId: string,
  trustIds: string[],
  request: JobRequest,
): Promise<QueueOutcome | undefined> {
  return queryOne<QueueOutcome>(
    em,
    sql`with requested as (
          select t.id, tr.id is not null as known, a.trust_id is not null as approved
          from unnest(${trustIds}::uuid[]) as t(id)
          left join trust tr on tr.id = t.id
          left join model_approved_trust a on a.model_id = ${modelId} and a.trust_id = t.id
        ), live as (
          select id from job where model_id = ${modelId} and status in (${sql.join([...LIVE_JOB_STATUSES])}) limit 1
        ), accepted as (
          select exists (select 1 from model where id = ${modelId}) and not exists (select 1 from live)
            and bool_and(known and approved) as ok
          from requested
        ), created as (
          insert into job (model_id, priority, not_before, max_runtime_s)
          select ${modelId}, ${request.priority}, ${request.notBefore?.toISOString() ?? null}::timestamptz, ${request.maxRuntimeS}::int
          from accepted where ok returning *
        ), linked as (
          insert into job_trust (job_id, trust_id) select created.id, r.id from created, requested r
        ), model_reset as (
          update model set status = ${MODEL.PENDING}, updated_at = now()
          where id = ${modelId} and status in ${oneOf(RESTARTABLE)}
            and exists (select 1 from created)
        )
        select exists (select 1 from model where id = ${modelId}) as "modelFound",
          array(select id::text from requested where not known) as unknown,
          array(select id::text from requested where known and not approved) as unapproved,
          (select id::text from live) as "liveJob",
          (select row_to_json(created_job) from (select ${JOB_COLUMNS} from created j) created_job) as job ${QUEUE_JOB.tag}`,
  );
}
