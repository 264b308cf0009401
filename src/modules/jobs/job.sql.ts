import { sql } from '../../database/sql.js';
import type { JobModel } from './job.model.js';

/** Columns of `job j` in the shape of JobModel. */
export const JOB_COLUMNS = sql.raw(`j.id, j.status, j.created_at as "createdAt", j.started_at as "startedAt",
  j.completed_at as "completedAt", j.backend_job_id as "backendJobId", j.attempts, j.model_id as "modelId", j.net_id as "netId"`);

export type JobRow = JobModel;
