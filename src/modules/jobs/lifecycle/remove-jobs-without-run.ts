import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { JOB_COLUMNS, type JobRow } from '../job.sql.js';
import { JOB } from './fragments.js';
import { EndReason, JobStatus } from './states.js';
import { JobState, lifecycleStatement, REMOVABLE_JOB_STATUSES } from './transitions.js';

/** Removable jobs that hold no net (the IN_PROGRESS ones end through `endRuns`). */
const REMOVABLE_WITHOUT_RUN = REMOVABLE_JOB_STATUSES.filter((s) => s !== JobStatus.IN_PROGRESS);

export const REMOVE_JOBS_WITHOUT_RUN = lifecycleStatement('removeJobsWithoutRun', {
  job: [
    [JobState.QUEUED, JobState.DELETED],
    [JobState.COMPLETED, JobState.DELETED],
  ],
});

/** The job, or every job of the model, that is queued or ended → DELETED (started_at cleared). */
export async function removeJobsWithoutRun(
  em: EntityManager,
  target: { jobId: string | null; modelId: string | null },
  endReason: EndReason.REMOVED | EndReason.STOPPED = EndReason.REMOVED,
): Promise<JobRow[]> {
  const { jobId, modelId } = target;
  return query<JobRow>(
    em,
    sql`with removed as (
          update job set status = ${JOB.DELETED}, started_at = null, end_reason = ${endReason}
          where status = any(${REMOVABLE_WITHOUT_RUN}::text[])
            and (${jobId}::uuid is null or id = ${jobId}::uuid) and (${modelId}::uuid is null or model_id = ${modelId}::uuid)
          returning *
        )
        select ${JOB_COLUMNS} from removed j ${REMOVE_JOBS_WITHOUT_RUN.tag}`,
  );
}
