import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { JOB } from './fragments.js';
import { JobState, lifecycleStatement } from './transitions.js';

export const REQUEUE_CLAIMED_JOB = lifecycleStatement('requeueClaimedJob', { job: [[JobState.CLAIMED, JobState.QUEUED]] });

/** A job claimed but not started (the caller checked its phase under a lock) goes back to the queue, in its place. */
export async function requeueClaimedJob(em: EntityManager, jobId: string): Promise<void> {
  await query(
    em,
    sql`update job set status = ${JOB.QUEUED}, net_id = null, started_at = null, claim_token = null, start_phase = null
        where id = ${jobId} and status = ${JOB.IN_PROGRESS} ${REQUEUE_CLAIMED_JOB.tag}`,
  );
}
