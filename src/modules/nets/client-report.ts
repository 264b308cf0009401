import type { BackendPolicy } from '../../fl-backends/backend-policy.js';
import type { ClientStatus } from '../../fl-backends/net-client.js';

/** One client of a `check_client_status` answer, as the hub stores it. */
export interface ClientRecord {
  name: string;
  online: boolean;
  /** the net's last_connect_time, when it gave a readable one */
  lastConnect: Date | null;
}

/**
 * A net's answer as records, by its backend's policy: one per name (a name
 * listed twice is online if any entry says so, with its latest connect time).
 */
export function toClientRecords(policy: BackendPolicy, reported: readonly ClientStatus[]): ClientRecord[] {
  const byName = new Map<string, ClientRecord>();
  for (const client of reported) {
    const record = {
      name: client.name,
      online: !policy.offlineStatuses.has(client.status),
      lastConnect: parseConnectTime(client.last_connect_time),
    };
    const seen = byName.get(client.name);
    byName.set(client.name, seen ? merge(seen, record) : record);
  }
  return [...byName.values()];
}

function merge(a: ClientRecord, b: ClientRecord): ClientRecord {
  const latest = [a.lastConnect, b.lastConnect].filter((d): d is Date => d !== null).sort((x, y) => y.getTime() - x.getTime());
  return { name: a.name, online: a.online || b.online, lastConnect: latest[0] ?? null };
}

/** Seconds since the epoch (NVFLARE's time.time()), milliseconds, or a date string; anything else: unknown. */
export function parseConnectTime(value: ClientStatus['last_connect_time']): Date | null {
  if (value === undefined || value === null || value === '') return null;
  const numeric = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : null;
  const ms = numeric === null ? Date.parse(value as string) : numeric < 1e11 ? numeric * 1000 : numeric;
  return Number.isFinite(ms) && ms > 0 ? new Date(ms) : null;
}
