import type { EntityManager } from '@mikro-orm/postgresql';
import { queryOne, sql } from '../../../database/sql.js';
import { ModelStatus } from '../../models/model-status.js';
import type { JobRow } from '../job.sql.js';
import { MODEL, oneOf } from './fragments.js';
import { JobState, lifecycleStatement } from './transitions.js';

export const QUEUE_JOB = lifecycleStatement('queueJob', { job: [[JobState.NEW, JobState.QUEUED]] });

/** Models whose status a new job resets to PENDING. */
const RESTARTABLE = [ModelStatus.STOPPED, ModelStatus.ERROR, ModelStatus.RESULTS_UPLOADED, ModelStatus.RESULTS_UPLOAD_FAILED];

export interface QueueOutcome {
  modelFound: boolean;
  unknown: string[];
  unapproved: string[];
  job: (Omit<JobRow, 'createdAt'> & { createdAt: string }) | null;
}

/**
 * A new QUEUED job of the model for the trusts, in one statement: inserted
 * only when the model exists and every trust is known and approved for it
 * (checks and inserts commit together or not at all); the outcome says which.
 */
export async function queueJob(em: EntityManager, modelId: string, trustIds: string[]): Promise<QueueOutcome | undefined> {
  return queryOne<QueueOutcome>(
    em,
    sql`with requested as (
          select t.id, exists (select 1 from trust where id = t.id) as known,
            exists (select 1 from model_approved_trust a where a.model_id = ${modelId} and a.trust_id = t.id) as approved
          from unnest(${trustIds}::uuid[]) as t(id)
        ), accepted as (
          select exists (select 1 from model where id = ${modelId}) and bool_and(known and approved) as ok from requested
        ), created as (
          insert into job (model_id) select ${modelId} from accepted where ok returning *
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
          (select json_build_object('id', j.id, 'status', j.status, 'createdAt', j.created_at, 'startedAt', j.started_at,
             'completedAt', j.completed_at, 'backendJobId', j.backend_job_id, 'attempts', j.attempts,
             'modelId', j.model_id, 'netId', j.net_id) from created j) as job ${QUEUE_JOB.tag}`,
  );
}
