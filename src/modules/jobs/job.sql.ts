import type { RawBuilder } from 'kysely';
import { columns, type RowFor, type RowOf } from '../../database/columns.js';
import { sql } from '../../database/sql.js';
import { JobEntity, JobStatus } from './job.entity.js';
import type { JobModel } from './job.model.js';

/** Columns of `job j` in the shape of JobModel. */
export const JOB_COLUMNS = columns(JobEntity, 'j', [
  'id',
  'status',
  'createdAt',
  'startedAt',
  'completedAt',
  'backendJobId',
  'attempts',
  'model',
  'net',
  'endReason',
]);

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
