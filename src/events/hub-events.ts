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

export type HubEvent = JobChanged | SchedulerChanged;

export const EVENTS_CHANNEL = 'fl_events';

export function parseHubEvent(payload: string | undefined): HubEvent | null {
  if (!payload) return null;
  try {
    const event = JSON.parse(payload) as HubEvent;
    return event.kind === 'job' || event.kind === 'scheduler' ? event : null;
  } catch {
    return null;
  }
}
