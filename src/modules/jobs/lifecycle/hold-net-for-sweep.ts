import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { JOB, leaseInterval } from './fragments.js';
import { lifecycleStatement, NetState } from './transitions.js';

export const HOLD_NET_FOR_SWEEP = lifecycleStatement('holdNetForSweep', { net: [[NetState.HELD, NetState.SWEEP]] });

/** A net still holding a claim's job, which ended while its start was on the way, is held for a sweep. */
export async function holdNetForSweep(
  em: EntityManager,
  claim: { schedulerId: string; jobId: string; claimToken: string },
  leaseMs: number,
): Promise<void> {
  await query(
    em,
    sql`update scheduler s set job_id = null, sweep_pending = true, updated_at = now(),
          lease_until = now() + ${leaseInterval(leaseMs)}
        from job j
        where s.id = ${claim.schedulerId} and s.job_id = ${claim.jobId} and j.id = s.job_id
          and j.claim_token = ${claim.claimToken} and j.status <> ${JOB.IN_PROGRESS} ${HOLD_NET_FOR_SWEEP.tag}`,
  );
}
