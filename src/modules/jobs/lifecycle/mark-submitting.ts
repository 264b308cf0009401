import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { JOB, PHASE } from './fragments.js';
import { JobState, lifecycleStatement } from './transitions.js';

export const MARK_SUBMITTING = lifecycleStatement('markSubmitting', {
  job: [
    [JobState.CLAIMED, JobState.SUBMITTING],
    [JobState.SUBMITTING, JobState.SUBMITTING],
  ],
});

/** The start is about to send submit_job. Idempotent (a retry finds the phase set); false when the claim is lost. */
export async function markSubmitting(em: EntityManager, jobId: string, claimToken: string): Promise<boolean> {
  const rows = await query(
    em,
    sql`update job set start_phase = ${PHASE.SUBMITTING}
        where id = ${jobId} and claim_token = ${claimToken} and status = ${JOB.IN_PROGRESS}
          and start_phase in (${PHASE.CLAIMED}, ${PHASE.SUBMITTING})
        returning id ${MARK_SUBMITTING.tag}`,
  );
  return rows.length === 1;
}
