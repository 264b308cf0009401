import type { EntityManager } from '@mikro-orm/postgresql';
import { query, queryOne, sql } from '../../../database/sql.js';
import type { NetRef } from '../../../fl-backends/net-client.js';
import { JOB, MODEL, NET, PHASE, leaseInterval } from './fragments.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

export const TIME_OUT_RUN = lifecycleStatement('timeOutRun', {
  job: [[JobState.RUNNING, JobState.DELETED]],
  net: [[NetState.HELD, NetState.SWEEP]],
});

/**
 * The run-time limit of a job `j` in seconds: its own (`max_runtime_s`), else
 * the hub's MAX_RUNTIME_S (`defaultS`); 0 means no limit.
 */
const runtimeLimit = (defaultS: number) => sql<number>`coalesce(j.max_runtime_s, ${defaultS}::int)`;

/** True for a job `j` whose confirmed run has run past its limit (counted from `started_at`). */
const pastItsLimit = (defaultS: number) =>
  sql<boolean>`j.status = ${JOB.IN_PROGRESS} and j.start_phase = ${PHASE.RUNNING} and ${runtimeLimit(defaultS)} > 0
    and j.started_at + ${runtimeLimit(defaultS)} * interval '1 second' <= now()`;

/** The jobs whose runs are past their limit now (not locked: `lockTimedOutRun` takes each). */
export function runsPastTheirLimit(em: EntityManager, defaultS: number): Promise<Array<{ jobId: string }>> {
  return query<{ jobId: string }>(em, sql`select j.id as "jobId" from job j where ${pastItsLimit(defaultS)}`);
}

export interface TimedOutRun {
  jobId: string;
  modelId: string;
  claimToken: string;
  backendJobId: string | null;
  schedulerId: string;
  net: NetRef;
  limitS: number;
}

/**
 * Locks a job whose run is past its limit, with its scheduler and model (all
 * that the timeout writes), in the caller's transaction. SKIP LOCKED: when
 * another instance timing it out, or a completion or report being written,
 * holds any of them, this waits for nothing (so it never deadlocks with the
 * reports, which lock the model first) and answers undefined, as it does
 * when the job no longer qualifies; the next reconcile looks again. While the
 * lock is held the caller aborts the run on its net: nothing else can end the
 * job meanwhile, so a run is aborted by one instance, once, and a completion
 * that races the timeout either committed first (the job is COMPLETED and
 * stays so) or waits and then finds the job ended.
 */
export function lockTimedOutRun(em: EntityManager, jobId: string, defaultS: number): Promise<TimedOutRun | undefined> {
  return queryOne<TimedOutRun & { netName: string; endpoint: string }>(
    em,
    sql`select j.id as "jobId", j.model_id as "modelId", j.claim_token as "claimToken", j.backend_job_id as "backendJobId",
          s.id as "schedulerId", n.name as "netName", n.endpoint, ${runtimeLimit(defaultS)} as "limitS"
        from job j join net n on n.id = j.net_id join scheduler s on s.job_id = j.id join model m on m.id = j.model_id
        where j.id = ${jobId} and ${pastItsLimit(defaultS)}
        for update of j, s, m skip locked`,
  ).then((row) => {
    if (!row) return undefined;
    const { netName, endpoint, ...run } = row;
    return { ...run, net: { name: netName, endpoint } };
  });
}

/**
 * The state change of a timeout, in ONE statement (compare-and-set on the
 * claim): the job DELETED with `end_reason 'TIMED_OUT'`, its model ERROR (a
 * STOPPED model stays STOPPED), and its net held for a sweep, which frees it
 * once nothing runs there (the run was aborted under the lock just before).
 */
export async function endTimedOutRun(em: EntityManager, run: TimedOutRun, leaseMs: number): Promise<boolean> {
  const ended = await query(
    em,
    sql`with ended as (
          update job set status = ${JOB.DELETED}, end_reason = 'TIMED_OUT', started_at = null, missing_since = null
          where id = ${run.jobId} and claim_token = ${run.claimToken} and status = ${JOB.IN_PROGRESS}
          returning id, model_id
        ), held as (
          update scheduler s set job_id = null, status = ${NET.BUSY}, sweep_pending = true, updated_at = now(),
            lease_until = now() + ${leaseInterval(leaseMs)}
          where s.job_id in (select id from ended)
        ), errored as (
          update model set status = ${MODEL.ERROR}, updated_at = now()
          where id in (select model_id from ended) and status <> ${MODEL.STOPPED}
        )
        select id from ended ${TIME_OUT_RUN.tag}`,
  );
  return ended.length > 0;
}
