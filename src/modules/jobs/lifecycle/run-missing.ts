import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { JOB } from './fragments.js';
import { JobState, lifecycleStatement } from './transitions.js';

const { RUNNING, COMPLETED, DELETED } = JobState;

export const MARK_RUN_MISSING = lifecycleStatement('markRunMissing', { job: [[RUNNING, RUNNING]] });
/** Not guarded by status: a job its run's listing was read for may have ended since (the write then changes nothing). */
export const CLEAR_RUN_MISSING = lifecycleStatement('clearRunMissing', {
  job: [
    [RUNNING, RUNNING],
    [COMPLETED, COMPLETED],
    [DELETED, DELETED],
  ],
});

/** The net no longer lists the job's run: from now on it counts as missing (`missing_since`). */
export async function markRunMissing(em: EntityManager, run: { jobId: string; claimToken: string }): Promise<void> {
  await query(
    em,
    sql`update job set missing_since = now()
        where id = ${run.jobId} and claim_token = ${run.claimToken} and status = ${JOB.IN_PROGRESS} ${MARK_RUN_MISSING.tag}`,
  );
}

/** The net lists the job's run again. */
export async function clearRunMissing(em: EntityManager, run: { jobId: string; claimToken: string }): Promise<void> {
  await query(
    em,
    sql`update job set missing_since = null where id = ${run.jobId} and claim_token = ${run.claimToken} ${CLEAR_RUN_MISSING.tag}`,
  );
}
