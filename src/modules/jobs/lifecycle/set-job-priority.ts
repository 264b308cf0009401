import type { EntityManager } from '@mikro-orm/postgresql';
import { queryOne, sql } from '../../../database/sql.js';
import { JOB } from './fragments.js';
import type { JobPriority, JobStatus } from './states.js';
import { JobState, lifecycleStatement } from './transitions.js';

export const SET_JOB_PRIORITY = lifecycleStatement('setJobPriority', { job: [[JobState.QUEUED, JobState.QUEUED]] });

/**
 * A QUEUED job's priority, in one statement. `status` is the job's status in
 * the statement's snapshot (null: no such job); `changed` whether it was
 * still QUEUED when the update reached it.
 */
export function setQueuedJobPriority(
  em: EntityManager,
  jobId: string,
  priority: JobPriority,
): Promise<{ status: JobStatus | null; changed: boolean } | undefined> {
  return queryOne<{ status: JobStatus | null; changed: boolean }>(
    em,
    sql`with changed as (
          update job set priority = ${priority} where id = ${jobId} and status = ${JOB.QUEUED} returning id
        )
        select (select status from job where id = ${jobId}) as status, exists (select 1 from changed) as changed
        ${SET_JOB_PRIORITY.tag}`,
  );
}
