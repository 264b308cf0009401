import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { leaseInterval } from '../net-state/scheduler.sql.js';

export interface TimedOutRun {
  jobId: string;
  modelId: string;
  backendJobId: string | null;
  netName: string;
  limitS: number;
}

/**
 * The run-time limit of a job `j` in seconds: its own (`max_runtime_s`), else
 * the hub's MAX_RUNTIME_S (`defaultS`); 0 means no limit.
 */
export const runtimeLimit = (defaultS: number) => sql<number>`coalesce(j.max_runtime_s, ${defaultS}::int)`;

/**
 * Ends every run past its run-time limit (counted from `started_at`), in ONE
 * statement: the job DELETED with `end_reason 'TIMED_OUT'`, its model ERROR
 * (a STOPPED model stays STOPPED), and its net held BUSY for a sweep, which
 * aborts the run on the net (`abort_job`) and only then frees it. Only
 * confirmed runs (`RUNNING`) are timed: a start still in flight is left to
 * the start and its lease.
 *
 * The rows are locked (FOR UPDATE SKIP LOCKED) and re-checked IN_PROGRESS, so
 * with any number of instances a job times out once, and a completion that
 * races the timeout either committed first (the job is COMPLETED and stays
 * so) or finds the job DELETED and changes nothing.
 */
export function timeOutRuns(em: EntityManager, defaultS: number, leaseMs: number): Promise<TimedOutRun[]> {
  return query<TimedOutRun>(
    em,
    sql`with expired as (
          select j.id, ${runtimeLimit(defaultS)} as limit_s from job j
          where j.status = 'IN_PROGRESS' and j.start_phase = 'RUNNING' and ${runtimeLimit(defaultS)} > 0
            and j.started_at + ${runtimeLimit(defaultS)} * interval '1 second' <= now()
          for update of j skip locked
        ), ended as (
          update job j set status = 'DELETED', end_reason = 'TIMED_OUT', started_at = null, missing_since = null
          from expired e where j.id = e.id and j.status = 'IN_PROGRESS'
          returning j.id, j.model_id, j.net_id, j.backend_job_id, e.limit_s
        ), held as (
          update scheduler s set job_id = null, status = 'BUSY', sweep_pending = true, updated_at = now(),
            lease_until = now() + ${leaseInterval(leaseMs)}
          where s.job_id in (select id from ended)
        ), errored as (
          update model set status = 'ERROR', updated_at = now()
          where id in (select model_id from ended) and status <> 'STOPPED'
        )
        select e.id as "jobId", e.model_id as "modelId", e.backend_job_id as "backendJobId", n.name as "netName",
          e.limit_s as "limitS"
        from ended e join net n on n.id = e.net_id`,
  );
}
