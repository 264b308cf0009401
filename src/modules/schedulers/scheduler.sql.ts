import { sql } from '../../database/sql.js';

/** Columns of `scheduler s` in the shape of SchedulerModel. */
export const SCHEDULER_COLUMNS = sql.raw(`s.id, s.status, s.net_id as "netId", s.job_id as "jobId",
  s.lease_until as "leaseUntil", s.updated_at as "updatedAt"`);

/** True while the deployment mode (pickup paused) is on. */
export const PICKUP_PAUSED = sql.raw(
  `coalesce((select (value->>'enabled')::boolean from hub_setting where key = 'deployment_mode'), false)`,
);

export const leaseInterval = (ms: number) => sql`(${ms} * interval '1 millisecond')`;
