import { JobStatus } from './job.entity.js';

const { QUEUED, IN_PROGRESS, COMPLETED, DELETED } = JobStatus;

/**
 * The job lifecycle as data. QUEUED → IN_PROGRESS is the claim; IN_PROGRESS →
 * QUEUED is lease recovery of a start that never happened; DELETED is the end
 * of every removal, including archival removal of a COMPLETED job.
 */
const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  [QUEUED]: [IN_PROGRESS, DELETED],
  [IN_PROGRESS]: [COMPLETED, DELETED, QUEUED],
  [COMPLETED]: [DELETED],
  [DELETED]: [],
};

export function canJobMove(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

/** Statuses from which a job may still be removed. */
export const REMOVABLE_JOB_STATUSES: readonly JobStatus[] = (Object.keys(JOB_TRANSITIONS) as JobStatus[]).filter((s) =>
  canJobMove(s, DELETED),
);

/** Jobs that still hold or wait for a net. */
export const LIVE_JOB_STATUSES: readonly JobStatus[] = [QUEUED, IN_PROGRESS];
