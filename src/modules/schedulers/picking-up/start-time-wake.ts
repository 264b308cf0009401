import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '@nestjs/common';
import { queryOne } from '../../../database/sql.js';
import { NEXT_START_TIME } from '../../jobs/job-timing.sql.js';

/** The longest single sleep (setTimeout holds at most ~24.8 days); a longer wait reads the next time again when it wakes. */
const MAX_SLEEP_MS = 3_600_000;
/** Woken this much after the time, so that the claim's `now()` has passed it. */
const PAST_THE_TIME_MS = 5;

/**
 * Sleeps until the next QUEUED job's start time (`notBefore`), or the end of
 * a hold on a trust a QUEUED job names (`holdTrust(until)`), and then asks
 * for a cycle, so that a timed or held job starts by itself, without waiting
 * for the interval tick. One timer, for the earliest time known; told of new
 * times by the queueing and holds on this instance and by the change
 * notifications, and reading the next time from the database (by its
 * clock) after each wake and on every interval tick — so a time learnt late, or a clock that runs ahead of
 * the database's, costs at most one more short sleep. Any number of
 * instances may wake at once: the claim keeps them apart.
 */
export class StartTimeWake {
  private timer: NodeJS.Timeout | null = null;
  /** when the timer fires, by this process's clock (ms since the epoch) */
  private wakeAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly em: EntityManager,
    private readonly onWake: () => void,
    private readonly logger: Logger,
  ) {}

  /** Wake at `time` (unless an earlier wake is already set). */
  at(time: Date): void {
    this.in(time.getTime() - Date.now());
  }

  /** Reads the next start time from the database and sleeps until then. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      const next = await queryOne(this.em.fork(), NEXT_START_TIME);
      if (next?.inMs !== null && next?.inMs !== undefined) this.in(next.inMs);
    } catch (error) {
      this.logger.warn(`could not read the next start time: ${String(error)}`);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private in(ms: number): void {
    if (this.stopped || !Number.isFinite(ms)) return;
    const delay = Math.min(Math.max(0, ms) + PAST_THE_TIME_MS, MAX_SLEEP_MS);
    const at = Date.now() + delay;
    if (this.timer && this.wakeAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }

  private wake(): void {
    this.timer = null;
    this.wakeAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    this.onWake();
    void this.refresh();
  }
}
