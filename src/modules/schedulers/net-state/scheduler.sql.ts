import { columns, type RowFor, type RowOf } from '../../../database/columns.js';
import { sql } from '../../../database/sql.js';
import { JOB_MAY_START_TEXT, PICKUP_PAUSED_TEXT } from '../../jobs/admission.sql.js';
import { SchedulerEntity } from './scheduler.entity.js';
import type { SchedulerModel } from './scheduler.model.js';

/** Columns of `scheduler s` in the shape of SchedulerModel. */
export const SCHEDULER_COLUMNS = columns(SchedulerEntity, 's', ['id', 'status', 'net', 'job', 'leaseUntil', 'updatedAt']);

export type SchedulerRow = RowFor<SchedulerModel, RowOf<typeof SCHEDULER_COLUMNS>>;

/** True while the deployment mode (pickup paused) is on. */
export const PICKUP_PAUSED = sql.raw(PICKUP_PAUSED_TEXT);

const NOT_DRAINED_TEXT = `not exists (select 1 from net dn where dn.id = scheduler.net_id and (dn.drained or dn.failed_calls > 0))`;

/**
 * True for an (unaliased) `scheduler` whose net may take a new job: not
 * drained, and no failed call waiting for its probe (the admission's
 * NET_TAKES_JOBS, for an unaliased scheduler).
 */
export const NOT_DRAINED = sql.raw(NOT_DRAINED_TEXT);

/** The ids of the schedulers a job could be claimed for now (free, and their net not drained). */
export const FREE_SCHEDULER_IDS_SQL = `select id from scheduler where status = 'AVAILABLE' and ${NOT_DRAINED_TEXT}`;

const UNAPPROVED_TRUST_TEXT = `exists (select 1 from job_trust jt where jt.job_id = j.id and not exists (
  select 1 from model_approved_trust a where a.model_id = j.model_id and a.trust_id = jt.trust_id))`;

/** True for a job `j` naming a trust that is not (or no longer) approved for its model. */
export const UNAPPROVED_TRUST = sql.raw(UNAPPROVED_TRUST_TEXT);

/**
 * One statement's text, `$1` a number of milliseconds: true when a free (not drained) net
 * and the oldest valid queued job have both waited at least that long (and
 * pickup is not paused) — nobody has been dispatching them. A job counts from
 * its creation, or from the end of its backoff.
 */
export const UNDISPATCHED_SQL = `select not ${PICKUP_PAUSED_TEXT}
  and exists (select 1 from scheduler where status = 'AVAILABLE' and ${NOT_DRAINED_TEXT}
              and updated_at <= now() - $1 * interval '1 millisecond')
  and exists (select 1 from (select coalesce(j.retry_at, j.created_at) as since from job j
                             where j.status = 'QUEUED' and not ${UNAPPROVED_TRUST_TEXT} and ${JOB_MAY_START_TEXT}
                             order by j.seq limit 1) oldest
              where oldest.since <= now() - $1 * interval '1 millisecond') as undispatched`;

export const leaseInterval = (ms: number) => sql`(${ms} * interval '1 millisecond')`;
