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

/** How urgent a job is; the claim orders by it first (raised by waiting, see PRIORITY_AGING_MS). */
export enum JobPriority {
  LOW = 'LOW',
  NORMAL = 'NORMAL',
  HIGH = 'HIGH',
  URGENT = 'URGENT',
}

/** Why a job left the queue or its net without COMPLETED (set with DELETED, and only then). */
export enum EndReason {
  REMOVED = 'REMOVED',
  STOPPED = 'STOPPED',
  UNAPPROVED_TRUST = 'UNAPPROVED_TRUST',
  START_FAILED = 'START_FAILED',
  ADMISSION_TIMEOUT = 'ADMISSION_TIMEOUT',
  TIMED_OUT = 'TIMED_OUT',
  RUN_FAILED = 'RUN_FAILED',
}

/** What one try to start a job came to (`start_attempt.outcome`). */
export enum StartOutcome {
  STARTED = 'STARTED',
  /** a trust's client was offline on the net (NVFLARE): the job waits; not a failed start */
  CLIENTS_OFFLINE = 'CLIENTS_OFFLINE',
  /** the net failed a call before the run existed (5xx, timeout, refused, malformed answer): retried */
  NET_ERROR = 'NET_ERROR',
  /** the net refused the job (a 4xx answer), or the job cannot start at all: not retried */
  REJECTED = 'REJECTED',
}

/** A net's slot in the pool (the `scheduler` row). */
export enum SchedulerStatus {
  AVAILABLE = 'AVAILABLE',
  BUSY = 'BUSY',
}
