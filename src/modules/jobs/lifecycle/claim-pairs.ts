import { sql } from '../../../database/sql.js';
import { latestCohortQuery } from '../../models/cohort-query.sql.js';
import { JOB_COLUMNS, type JobRow } from '../job.sql.js';
import type { Claim, StartDetails } from './claim.js';
import { leaseInterval, NET, PHASE, JOB } from './fragments.js';

/**
 * The tail of a claim statement: `pair (job_id, scheduler_id, net_id)` must be
 * defined before it. Each job still QUEUED → IN_PROGRESS (CLAIMED) on its net
 * (a job removed since the statement began is left out: its row lock is
 * waited for and its status read again), and only then its scheduler → BUSY
 * with the job and a lease; selects what the start needs. With `complete` (a
 * boolean SQL expression) it also answers that, in one row at least: a row
 * with no job when it claimed nothing.
 */
export function assignPairs(claim: { instanceName: string; leaseMs: number }, complete?: string) {
  const claimedRows = sql`claimed j join net n on n.id = j.net_id join model m on m.id = j.model_id`;
  const from =
    complete === undefined
      ? sql`from ${claimedRows}`
      : sql`, ${sql.raw(complete)} as "complete" from (select) one left join (${claimedRows}) on true`;
  return sql`claimed as (
      update job j set status = ${JOB.IN_PROGRESS}, net_id = p.net_id, started_at = clock_timestamp(), attempts = j.attempts + 1,
        retry_at = null,
        claim_token = gen_random_uuid(), start_phase = ${PHASE.CLAIMED}, missing_since = null, backend_job_id = null,
        claimed_by = ${claim.instanceName}
      from pair p where j.id = p.job_id and j.status = ${JOB.QUEUED}
      returning j.*, p.scheduler_id
    ), held as (
      update scheduler s set status = ${NET.BUSY}, job_id = c.id, sweep_pending = false, updated_at = now(),
        lease_until = now() + ${leaseInterval(claim.leaseMs)}
      from claimed c where s.id = c.scheduler_id
    )
    select ${JOB_COLUMNS}, j.claim_token as "claimToken", j.scheduler_id as "schedulerId",
      n.name as "netName", n.endpoint, n.fl_backend as "flBackend", m.project_id as "projectId",
      (select lc.query from ${latestCohortQuery('m.project_id', 'lc')}) as "cohortQuery",
      (select coalesce(json_agg(json_build_object('trustId', jt.trust_id, 'slotName', k.slot_name)
                                order by k.slot_number nulls last, jt.trust_id), '[]'::json)
       from job_trust jt left join kit_slot k on k.assigned_trust_id = jt.trust_id where jt.job_id = j.id) as slots
    ${from}
    order by j.seq`;
}

export type ClaimRow = JobRow & { claimToken: string; schedulerId: string } & StartDetails;

/** A row of a claim asked whether it was `complete` (assignPairs): always one at least, `id` null when it took nothing. */
export type ClaimOrNoneRow = (ClaimRow | { id: null }) & { complete: boolean };

export function toClaim(row: ClaimRow): Claim {
  const { claimToken, schedulerId, netName, endpoint, flBackend, projectId, cohortQuery, slots, ...job } = row;
  return {
    job,
    claimToken,
    schedulerId,
    trustIds: slots.map((s) => s.trustId),
    details: { netName, endpoint, flBackend, projectId, cohortQuery, slots },
  };
}
