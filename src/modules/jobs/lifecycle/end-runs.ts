import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import type { ModelStatus } from '../../models/model-status.js';
import { JOB_COLUMNS, type JobRow } from '../job.sql.js';
import { JOB, MODEL, NET, PHASE } from './fragments.js';
import type { EndReason, JobStatus } from './states.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

const { CLAIMED, SUBMITTING, RUNNING, COMPLETED, DELETED } = JobState;

export const END_RUNS = lifecycleStatement('endRuns', {
  job: [CLAIMED, SUBMITTING, RUNNING].flatMap((from) => [[from, COMPLETED] as const, [from, DELETED] as const]),
  net: [
    [NetState.HELD, NetState.AVAILABLE],
    [NetState.HELD, NetState.SWEEP],
  ],
});

export interface EndRunTarget {
  /** the job(s) to end: by id (with the claim token when known), or every IN_PROGRESS job of a model */
  jobId?: string;
  claimToken?: string;
  modelId?: string;
}

/**
 * Ends IN_PROGRESS job(s) and frees their nets, in one statement: the job
 * goes to `jobStatus`, the model (optionally) to `modelStatus` — except a
 * STOPPED model, which stays STOPPED — and the scheduler holding the job
 * becomes AVAILABLE (or is held for a sweep). Compare-and-set: a job that is no longer IN_PROGRESS
 * (or no longer holds `claimToken`) is left alone, so a stale caller cannot
 * undo another's work. Returns the jobs it ended.
 *
 * A completion that overtakes its start (the job SUBMITTING: submit_job sent,
 * its answer not back) ends the job but leaves the net to the start, still
 * BUSY with the job under the claim's lease: the run being reported may be
 * the very one submit_job is creating, which only the start can name, so
 * handing the net out now could put a second run beside one that is not over.
 * The start records the run, sweeps and frees the net when its answer comes
 * (`confirmStart`); if the start dies, lease recovery holds the net for a sweep.
 */
export async function endRuns(
  em: EntityManager,
  target: EndRunTarget,
  jobStatus: JobStatus.COMPLETED | JobStatus.DELETED,
  modelStatus: ModelStatus | null,
  /** set when a run may still be alive on the net: the net is held for a sweep (orphan abort) instead of freed */
  sweep?: { leaseMs: number },
  /** why a DELETED job ended (none for COMPLETED) */
  endReason: EndReason | null = null,
): Promise<JobRow[]> {
  const holdForSweep = sweep !== undefined;
  const leaseMs = sweep?.leaseMs ?? 0;
  return query<JobRow>(
    em,
    sql`with ended as (
          update job set status = ${jobStatus}, end_reason = case when ${jobStatus} = ${JOB.DELETED} then ${endReason}::text end,
            completed_at = case when ${jobStatus} = ${JOB.COMPLETED} then clock_timestamp() else completed_at end,
            started_at = case when ${jobStatus} = ${JOB.DELETED} then null else started_at end,
            missing_since = null
          where status = ${JOB.IN_PROGRESS}
            and (${target.jobId ?? null}::uuid is null or id = ${target.jobId ?? null}::uuid)
            and (${target.modelId ?? null}::uuid is null or model_id = ${target.modelId ?? null}::uuid)
            and (${target.claimToken ?? null}::uuid is null or claim_token = ${target.claimToken ?? null}::uuid)
          returning *
        ), freed as (
          update scheduler set job_id = null, updated_at = now(),
            status = case when ${holdForSweep} then ${NET.BUSY} else ${NET.AVAILABLE} end,
            lease_until = case when ${holdForSweep} then now() + ${leaseMs} * interval '1 millisecond' else null end,
            sweep_pending = ${holdForSweep}
          where job_id in (select id from ended where ${jobStatus} = ${JOB.DELETED} or start_phase <> ${PHASE.SUBMITTING})
        ), model_update as (
          update model set status = ${modelStatus}, updated_at = now()
          where ${modelStatus}::text is not null and status <> ${MODEL.STOPPED} and id in (select model_id from ended)
        )
        select ${JOB_COLUMNS} from ended j ${END_RUNS.tag}`,
  );
}
