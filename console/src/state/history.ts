/** Samples of the pool over time, for the charts: the last hour, kept in the page. */
export const HISTORY_WINDOW_MS = 60 * 60 * 1000;

export interface Sample {
  /** ms since the epoch */
  at: number;
  busyNets: number;
  queueLength: number;
}

export class History {
  private samples: Sample[] = [];

  constructor(private readonly windowMs = HISTORY_WINDOW_MS) {}

  /** a point per change and per tick; samples older than the window are dropped */
  add(sample: Sample): void {
    const last = this.samples.at(-1);
    // one point per instant: a burst of events in one millisecond is one change
    if (last && last.at === sample.at) this.samples[this.samples.length - 1] = sample;
    else if (!last || sample.at > last.at) this.samples.push(sample);
    const oldest = sample.at - this.windowMs;
    const keepFrom = this.samples.findIndex((s) => s.at >= oldest);
    if (keepFrom > 0) this.samples = this.samples.slice(keepFrom);
  }

  all(): readonly Sample[] {
    return this.samples;
  }
}

/** nearest-rank percentile (p in 0–100) of values; null when there are none */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

/** time from queueing to start, per started job */
export function startLatencies(
  jobs: Iterable<{ createdAt: string; startedAt: string | null }>,
): Array<{ at: number; ms: number }> {
  const out: Array<{ at: number; ms: number }> = [];
  for (const job of jobs) {
    if (!job.startedAt) continue;
    const at = Date.parse(job.startedAt);
    out.push({ at, ms: Math.max(0, at - Date.parse(job.createdAt)) });
  }
  return out.sort((a, b) => a.at - b.at);
}
