import { conflict, type DomainError } from '../../common/errors.js';
import { sql } from '../../database/sql.js';
import type { JobPriority } from './job.entity.js';
import { LIVE_JOB_STATUSES } from './job-state.js';
import { JOB_COLUMNS, type JobRow } from './job.sql.js';

/** The partial unique index that keeps one live job per model (migration 20261201050000). */
export const LIVE_JOB_INDEX = 'job_one_live_per_model';

export interface QueueOutcome {
  modelFound: boolean;
  unknown: string[];
  unapproved: string[];
  /** the model's live job, when it has one (then nothing was written) */
  liveJob: string | null;
  /** QUEUED jobs in the statement's snapshot, all queued before the new one */
  queuedBefore: number;
  job: (Omit<JobRow, 'createdAt' | 'notBefore'> & { createdAt: string; notBefore: string | null }) | null;
}

/** What a researcher asks of a job (`queueTraining(options)`), validated. */
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
 * or not at all.
 */
export function queueJobStatement(modelId: string, trustIds: string[], request: JobRequest) {
  return sql<QueueOutcome>`with requested as (
      select t.id, exists (select 1 from trust where id = t.id) as known,
        exists (select 1 from model_approved_trust a where a.model_id = ${modelId} and a.trust_id = t.id) as approved
      from unnest(${trustIds}::uuid[]) as t(id)
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
      update model set status = 'PENDING', updated_at = now()
      where id = ${modelId} and status in ('STOPPED', 'ERROR', 'RESULTS_UPLOADED', 'RESULTS_UPLOAD_FAILED')
        and exists (select 1 from created)
    )
    select exists (select 1 from model where id = ${modelId}) as "modelFound",
      array(select id::text from requested where not known) as unknown,
      array(select id::text from requested where known and not approved) as unapproved,
      (select id::text from live) as "liveJob",
      (select count(*)::int from job where status = 'QUEUED') as "queuedBefore",
      (select row_to_json(created_job) from (select ${JOB_COLUMNS} from created j) created_job) as job`;
}

export const liveJobConflict = (modelId: string, liveJobId: string | null): DomainError =>
  conflict(
    `model ${modelId} already has a live (QUEUED or IN_PROGRESS) job${liveJobId ? ` ${liveJobId}` : ''}: ` +
      'wait for it to end, or remove or stop it first',
    { field: 'modelId', ...(liveJobId ? { liveJobId } : {}) },
  );

/** A unique violation (23505) of the named constraint or index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown; cause?: { code?: unknown; constraint?: unknown } } | null;
  const pgError = e?.code === '23505' ? e : e?.cause?.code === '23505' ? e.cause : null;
  return pgError?.constraint === constraint;
}
