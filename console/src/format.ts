/** Words and times for people. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export function since(iso: string | null, now: number): string {
  return iso ? duration(now - Date.parse(iso)) : '—';
}

export function clock(iso: string | null): string {
  if (!iso) return '—';
  const at = new Date(iso);
  const sameDay = at.toDateString() === new Date().toDateString();
  return sameDay ? at.toLocaleTimeString() : at.toLocaleString();
}

export const STATUS_WORDS: Record<string, string> = {
  QUEUED: 'queued',
  IN_PROGRESS: 'running',
  COMPLETED: 'completed',
  DELETED: 'removed',
  AVAILABLE: 'free',
  BUSY: 'busy',
};

/** why a queued job waits, in words (PendingReason) */
export const PENDING_WORDS: Record<string, string> = {
  WAITING_FOR_NET: 'waiting for a free net',
  CLIENTS_OFFLINE: 'clients offline',
  RETRY_BACKOFF: 'retrying after a failed start',
  TRUST_AT_CAPACITY: 'a trust is at its limit',
  PROJECT_AT_CAPACITY: 'its project is at its limit',
  TRUST_HELD: 'a trust is on hold',
  NO_NET: 'no net takes jobs',
  NOT_BEFORE: 'its start time has not come',
  DEPLOYMENT_MODE: 'deployment mode',
};

/** why a job ended without COMPLETED, in words (EndReason) */
export const END_WORDS: Record<string, string> = {
  REMOVED: 'removed from the queue',
  STOPPED: 'stopped',
  UNAPPROVED_TRUST: 'a trust is not approved for its model',
  START_FAILED: 'every start failed',
  ADMISSION_TIMEOUT: 'clients offline for too long',
  TIMED_OUT: 'ran past its time limit',
  RUN_FAILED: 'the run failed on its net',
};

/** a start attempt's outcome, in words */
export const OUTCOME_WORDS: Record<string, string> = {
  STARTED: 'started',
  CLIENTS_OFFLINE: 'clients offline',
  NET_ERROR: 'net error',
  REJECTED: 'refused by the net',
};

export const PRIORITY_WORDS: Record<string, string> = { LOW: 'low', NORMAL: 'normal', HIGH: 'high', URGENT: 'urgent' };

/** a word for a code the page has none for: "SOME_CODE" → "some code" */
export function inWords(words: Record<string, string>, code: string | null): string {
  if (!code) return '—';
  return words[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

/** a running count against its limit: "1 of 2", or "1 (no limit)" */
export function againstLimit(running: number, limit: number | null): string {
  return limit === null ? `${running} (no limit)` : `${running} of ${limit}`;
}

/** "" → null (no limit); a whole number ≥ min → that number; anything else → undefined */
export function limitValue(text: string, min = 0): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value >= min && Number.isSafeInteger(value) ? value : undefined;
}

/** a datetime-local input's text as an ISO time; "" → null; undefined when it is no time */
export function timeValue(text: string): string | null | undefined {
  if (text.trim() === '') return null;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}
