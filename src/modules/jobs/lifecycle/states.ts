/**
 * The states of the two rows a job's lifecycle moves: the job, and the
 * scheduler row of the net it holds. Every status and phase the hub writes
 * or reads in SQL comes from here (`fragments.ts` turns them into SQL).
 */
export enum JobStatus {
  QUEUED = 'QUEUED',
  IN_PROGRESS = 'IN_PROGRESS',
  COMPLETED = 'COMPLETED',
  DELETED = 'DELETED',
}

/** How far the start of a claimed job got; decides what lease recovery does. */
export enum StartPhase {
  CLAIMED = 'CLAIMED',
  SUBMITTING = 'SUBMITTING',
  RUNNING = 'RUNNING',
}

/** A net's slot in the pool (the `scheduler` row). */
export enum SchedulerStatus {
  AVAILABLE = 'AVAILABLE',
  BUSY = 'BUSY',
}
