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
