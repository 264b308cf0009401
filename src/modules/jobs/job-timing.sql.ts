import { sql } from '../../database/sql.js';

/**
 * When a job `j` may start, as SQL over its row (the alias is always `j`,
 * as in the claim). Each expression exists as text (for statements written
 * as strings, e.g. the follower's look) and as a fragment for `sql`.
 */

/**
 * The job's own earliest start: its `notBefore` (`queueTraining(options)`),
 * null when it has none. Anything else that delays a start (a backoff) takes
 * the later of this and its own time: `greatest(<this>, <backoff>)`
 * (`greatest` ignores nulls).
 */
export const OWN_EARLIEST_START_TEXT = 'j.not_before';

/** True for a job `j` whose own start time has come, or that has none: the claim takes only these. */
export const NOT_BEFORE_REACHED_TEXT = `(${OWN_EARLIEST_START_TEXT} is null or ${OWN_EARLIEST_START_TEXT} <= now())`;
export const NOT_BEFORE_REACHED = sql.raw<boolean>(NOT_BEFORE_REACHED_TEXT);

/** True for a job `j` that waits for its own start time (`pendingReason NOT_BEFORE`, while QUEUED). */
export const WAITS_FOR_NOT_BEFORE_TEXT = `coalesce(${OWN_EARLIEST_START_TEXT} > now(), false)`;
export const WAITS_FOR_NOT_BEFORE = sql.raw<boolean>(WAITS_FOR_NOT_BEFORE_TEXT);

/**
 * `Job.notBefore`: the earliest time a QUEUED job `j` may start, null when it
 * may start now (or is not QUEUED): the later of its own start time and
 * the admission's backoff (`retry_at`).
 */
const EARLIEST = `greatest(${OWN_EARLIEST_START_TEXT}, j.retry_at)`;
export const EARLIEST_START_TEXT = `(case when j.status = 'QUEUED' and ${EARLIEST} > now() then ${EARLIEST} end)`;

/**
 * Milliseconds (by the database clock) until the next QUEUED job's start
 * time comes, or the next hold that ends by itself on a trust a QUEUED job
 * names, null when no queued job waits for either: what the pickup's wake-up
 * sleeps for.
 */
export const NEXT_START_TIME = sql<{ inMs: number | null }>`select
    ceil(extract(epoch from least(
      (select min(${sql.raw(OWN_EARLIEST_START_TEXT)}) from job j where j.status = 'QUEUED' and ${WAITS_FOR_NOT_BEFORE}),
      (select min(t.hold_until) from trust t
        where t.on_hold and t.hold_until > now()
          and exists (select 1 from job_trust jt join job j on j.id = jt.job_id where jt.trust_id = t.id and j.status = 'QUEUED'))
    ) - now()) * 1000)::float8 as "inMs"`;
