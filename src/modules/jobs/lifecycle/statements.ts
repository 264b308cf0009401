import { SET_JOB_PRIORITY } from './set-job-priority.js';
import { TIME_OUT_RUN } from './time-out-run.js';
import { CLAIM_FREE_NET } from './claim-free-net.js';
import { CLAIM_JOB_FOR_NET } from './claim-job-for-net.js';
import { CLAIM_NEXT_JOBS } from './claim-next-jobs.js';
import { CONFIRM_START } from './confirm-start.js';
import { END_RUNS } from './end-runs.js';
import { FREE_NET } from './free-net.js';
import { HOLD_NET_FOR_SWEEP } from './hold-net-for-sweep.js';
import { MARK_SUBMITTING } from './mark-submitting.js';
import { QUEUE_JOB } from './queue-job.js';
import { RECORD_FAILED_START } from './record-failed-start.js';
import { EXPIRE_WAITING_JOBS } from './expire-waiting-jobs.js';
import { RECOVER_EXPIRED_LEASES } from './recover-expired-leases.js';
import { REMOVE_JOBS_WITHOUT_RUN } from './remove-jobs-without-run.js';
import { REQUEUE_CLAIMED_JOB } from './requeue-claimed-job.js';
import { RETIRE_INVALID_QUEUED_JOBS } from './retire-invalid-queued-jobs.js';
import { CLEAR_RUN_MISSING, MARK_RUN_MISSING } from './run-missing.js';
import { FREE_SWEPT_NET, RENEW_SWEEP_HOLD, TAKE_SWEEP_HOLD } from './sweep-hold.js';
import type { LifecycleStatement } from './transitions.js';

/**
 * Every statement that changes a job or a scheduler row, in the order of a
 * job's life. Each lives in its own file, named after what it does, with
 * the moves it declares (checked against the table in `transitions.ts`).
 */
export const LIFECYCLE_STATEMENTS: readonly LifecycleStatement[] = [
  QUEUE_JOB,
  SET_JOB_PRIORITY,
  RETIRE_INVALID_QUEUED_JOBS,
  CLAIM_NEXT_JOBS,
  CLAIM_FREE_NET,
  CLAIM_JOB_FOR_NET,
  REQUEUE_CLAIMED_JOB,
  FREE_NET,
  MARK_SUBMITTING,
  RECORD_FAILED_START,
  CONFIRM_START,
  END_RUNS,
  TIME_OUT_RUN,
  HOLD_NET_FOR_SWEEP,
  REMOVE_JOBS_WITHOUT_RUN,
  MARK_RUN_MISSING,
  CLEAR_RUN_MISSING,
  RECOVER_EXPIRED_LEASES,
  EXPIRE_WAITING_JOBS,
  TAKE_SWEEP_HOLD,
  RENEW_SWEEP_HOLD,
  FREE_SWEPT_NET,
];
