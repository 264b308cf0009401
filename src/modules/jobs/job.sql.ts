import { columns, type RowFor, type RowOf } from '../../database/columns.js';
import { JobEntity } from './job.entity.js';
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
]);

export type JobRow = RowFor<JobModel, RowOf<typeof JOB_COLUMNS>>;
