import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { assignPairs, toClaim, type ClaimRow } from './claim-pairs.js';
import type { Claim } from './claim.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

export const CLAIM_JOB_FOR_NET = lifecycleStatement('claimJobForNet', {
  job: [[JobState.QUEUED, JobState.CLAIMED]],
  net: [[NetState.CLAIMED, NetState.HELD]],
});

/** `check_for_queued_jobs`: the job (locked by the caller) claimed for a net claimed alone (`claimFreeNet`). */
export async function claimJobForNet(
  em: EntityManager,
  pair: { jobId: string; schedulerId: string; netId: string },
  claim: { instanceName: string; leaseMs: number },
): Promise<Claim> {
  const [row] = await query<ClaimRow>(
    em,
    sql`with pair as (select ${pair.jobId}::uuid as job_id, ${pair.schedulerId}::uuid as scheduler_id, ${pair.netId}::uuid as net_id),
        ${assignPairs(claim)} ${CLAIM_JOB_FOR_NET.tag}`,
  );
  return toClaim(row);
}
