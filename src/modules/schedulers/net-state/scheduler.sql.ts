import { columns, type RowFor, type RowOf } from '../../../database/columns.js';
import { FRAGMENT_TEXT, literal } from '../../jobs/lifecycle/fragments.js';
import { JobStatus, SchedulerStatus } from '../../jobs/lifecycle/states.js';
import { JOB_MAY_START_TEXT } from '../../jobs/admission.sql.js';
import { JOB_UNGATED_TEXT } from '../../jobs/dispatch-order.sql.js';
import { OWN_EARLIEST_START_TEXT } from '../../jobs/job-timing.sql.js';
import { SchedulerEntity } from './scheduler.entity.js';
import type { SchedulerModel } from './scheduler.model.js';

/** Columns of `scheduler s` in the shape of SchedulerModel. */
export const SCHEDULER_COLUMNS = columns(SchedulerEntity, 's', ['id', 'status', 'net', 'job', 'leaseUntil', 'updatedAt']);

export type SchedulerRow = RowFor<SchedulerModel, RowOf<typeof SCHEDULER_COLUMNS>>;

const { PICKUP_PAUSED, NOT_DRAINED, UNAPPROVED_TRUST } = FRAGMENT_TEXT;
const AVAILABLE = literal(SchedulerStatus.AVAILABLE);
const QUEUED = literal(JobStatus.QUEUED);

/** The ids of the schedulers a job could be claimed for now (free, and their net not drained). */
export const FREE_SCHEDULER_IDS_SQL = `select id from scheduler where status = ${AVAILABLE} and ${NOT_DRAINED}`;

/** The ids of the queued jobs (the dispatch's snapshot of what waits). */
export const QUEUED_JOB_IDS_SQL = `select id from job where status = ${QUEUED}`;

/**
 * One statement's text, `$1` a number of milliseconds: true when a free (not drained) net
 * and the oldest valid queued job that no hold or limit keeps back have both
 * waited at least that long (and
 * pickup is not paused) — nobody has been dispatching them. A job counts from
 * its creation, or from its start time or the end of its backoff, and is not
 * looked at before them.
 */
export const UNDISPATCHED_SQL = `select not ${PICKUP_PAUSED}
  and exists (select 1 from scheduler where status = ${AVAILABLE} and ${NOT_DRAINED}
              and updated_at <= now() - $1 * interval '1 millisecond')
  and exists (select 1 from (select greatest(j.created_at, ${OWN_EARLIEST_START_TEXT}, j.retry_at) as ready_at from job j
                             where j.status = ${QUEUED} and not ${UNAPPROVED_TRUST} and ${JOB_MAY_START_TEXT} and ${JOB_UNGATED_TEXT}
                             order by j.seq limit 1) oldest
              where oldest.ready_at <= now() - $1 * interval '1 millisecond') as undispatched`;
