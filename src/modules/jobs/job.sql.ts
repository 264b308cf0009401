import { columns, joinColumns, type ColumnList, type RowFor, type RowOf } from '../../database/columns.js';
import { sql } from '../../database/sql.js';
import { JobEntity } from './job.entity.js';
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
