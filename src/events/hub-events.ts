/** A change of a job or a scheduler, as announced by the database triggers on `fl_events`. */
export interface JobChanged {
  kind: 'job';
  id: string;
  status: string;
  modelId: string;
  netId: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  backendJobId: string | null;
  attempts: number;
  /** absent from events of triggers older than migration 20261201070000 */
  priority?: string;
  /** the earliest time a QUEUED job may start (Job.notBefore), null when it may start now */
  notBefore?: string | null;
  /** the job's own run-time limit in seconds; null: the hub's MAX_RUNTIME_S */
  maxRuntimeS?: number | null;
  /** why it ended without COMPLETED (absent from events of older triggers) */
  endReason?: string | null;
}

export interface SchedulerChanged {
  kind: 'scheduler';
  id: string;
  status: string;
  netId: string;
  jobId: string | null;
  leaseUntil: string | null;
  updatedAt: string;
  /** its net takes no new job (absent from events of older triggers) */
  drained?: boolean;
}

/** A trust created, given a kit slot, or its limit or hold changed (its hold as it stood then). */
export interface TrustChanged {
  kind: 'trust';
  id: string;
  name: string;
  slotName: string | null;
  maxConcurrentJobs: number | null;
  onHold: boolean;
  holdUntil: string | null;
}

/** A project created, or its limit or share changed. */
export interface ProjectChanged {
  kind: 'project';
  id: string;
  name: string;
  maxConcurrentJobs: number | null;
  share: number;
}

export type HubEvent = JobChanged | SchedulerChanged | TrustChanged | ProjectChanged;

const KINDS: ReadonlySet<string> = new Set<HubEvent['kind']>(['job', 'scheduler', 'trust', 'project']);

export const EVENTS_CHANNEL = 'fl_events';

export function parseHubEvent(payload: string | undefined): HubEvent | null {
  if (!payload) return null;
  try {
    const event = JSON.parse(payload) as HubEvent;
    return KINDS.has(event.kind) ? event : null;
  } catch {
    return null;
  }
}
