import type { RawBuilder } from 'kysely';
import { columns, joinColumns, type ColumnList, type RowFor, type RowOf } from '../../database/columns.js';
import { sql } from '../../database/sql.js';
import { JobEntity, JobStatus } from './job.entity.js';
import { EARLIEST_START_TEXT } from './job-timing.sql.js';
import type { JobModel } from './job.model.js';

const EARLIEST_START_COLUMN_TEXT = `${EARLIEST_START_TEXT} as "notBefore"`;

/** `Job.notBefore`, computed from the row (see job-timing.sql.ts). */
const EARLIEST_START_COLUMN: ColumnList<{ notBefore: Date | null }> = Object.assign(
  sql.raw<{ notBefore: Date | null }>(EARLIEST_START_COLUMN_TEXT),
  { text: EARLIEST_START_COLUMN_TEXT },
);

/** Columns of `job j` in the shape of JobModel. */
export const JOB_COLUMNS = joinColumns(
  columns(JobEntity, 'j', [
    'id',
    'status',
    'createdAt',
    'startedAt',
    'completedAt',
    'backendJobId',
    'attempts',
    'model',
    'net',
    'priority',
    'maxRuntimeS',
    'endReason',
  ]),
  EARLIEST_START_COLUMN,
);

export type JobRow = RowFor<JobModel, RowOf<typeof JOB_COLUMNS>>;

/** A job row with its 1-based queue position (null unless QUEUED), both read in one statement. */
export type PositionedJobRow = JobRow & { queuePosition: number | null };

/**
 * The rows `page` selects (JOB_COLUMNS of `job j` and `j.seq`), in queue
 * order, each QUEUED one with its place in the queue, counted in the same
 * statement as the row itself (one snapshot: a QUEUED row always has a
 * position). One window over the queued jobs between the page's first and
 * last queued row, plus an index count of those queued before the first:
 * the cost follows the page, not the length of the queue behind it.
 */
export function withQueuePositions(page: RawBuilder<unknown>): RawBuilder<PositionedJobRow> {
  return sql<PositionedJobRow>`with page as (${page}),
      span as (select min(seq) as lo, max(seq) as hi from page where status = ${JobStatus.QUEUED}),
      ranked as (
        select q.id, row_number() over (order by q.seq) as rn
        from job q, span where q.status = ${JobStatus.QUEUED} and q.seq between span.lo and span.hi
      ),
      queued_before as (select count(*)::int as n from job q, span where q.status = ${JobStatus.QUEUED} and q.seq < span.lo)
    select page.*, (queued_before.n + ranked.rn)::int as "queuePosition"
    from page left join ranked on ranked.id = page.id cross join queued_before
    order by page.seq`;
}
