/**
 * A model's training status and the transitions between statuses, as data.
 * Reported by nets (`updateModelStatus`) and set by the hub (queue, start,
 * failure, stop).
 */
export enum ModelStatus {
  PENDING = 'PENDING',
  INITIATED = 'INITIATED',
  PREPARED = 'PREPARED',
  RUNNING = 'RUNNING',
  RESULTS_UPLOADED = 'RESULTS_UPLOADED',
  RESULTS_UPLOAD_FAILED = 'RESULTS_UPLOAD_FAILED',
  STOPPED = 'STOPPED',
  ERROR = 'ERROR',
}

const { PENDING, INITIATED, PREPARED, RUNNING, RESULTS_UPLOADED, RESULTS_UPLOAD_FAILED, STOPPED, ERROR } = ModelStatus;

/** Statuses that end a training run: entering one completes the job and frees its net. */
export const RUN_ENDING_STATUSES: ReadonlySet<ModelStatus> = new Set([ERROR, STOPPED, RESULTS_UPLOADED, RESULTS_UPLOAD_FAILED]);

/** Statuses a net may report for a model, by current status. */
const REPORTED_TRANSITIONS: Readonly<Record<ModelStatus, readonly ModelStatus[]>> = {
  [PENDING]: [INITIATED, PREPARED, RUNNING, ERROR, STOPPED],
  [INITIATED]: [PREPARED, RUNNING, RESULTS_UPLOADED, RESULTS_UPLOAD_FAILED, ERROR, STOPPED],
  [PREPARED]: [RUNNING, RESULTS_UPLOADED, RESULTS_UPLOAD_FAILED, ERROR, STOPPED],
  [RUNNING]: [RESULTS_UPLOADED, RESULTS_UPLOAD_FAILED, ERROR, STOPPED],
  [RESULTS_UPLOADED]: [],
  [RESULTS_UPLOAD_FAILED]: [],
  [ERROR]: [],
  [STOPPED]: [],
};

export type ReportedStatusDecision =
  | { kind: 'apply'; endsRun: boolean }
  /** same status again, or anything after STOPPED: accepted and ignored */
  | { kind: 'ignore' }
  | { kind: 'reject'; reason: string };

/** What to do with a status a net reports for a model currently in `from`. */
export function decideReportedStatus(from: ModelStatus, to: ModelStatus): ReportedStatusDecision {
  if (from === to || from === STOPPED) return { kind: 'ignore' };
  if (REPORTED_TRANSITIONS[from].includes(to)) return { kind: 'apply', endsRun: RUN_ENDING_STATUSES.has(to) };
  return { kind: 'reject', reason: `a model cannot go from ${from} to ${to}` };
}
