import type { Logger } from '@nestjs/common';
import type pg from 'pg';

/** What the dispatch asks the database, in the scheduling rules' own SQL (the events layer knows no module). */
export interface DispatchRules {
  /** true when a free net and a valid queued job have both waited longer than `$1` ms; null: a follower only watches the lead */
  undispatchedSql: string | null;
  /** the ids of the schedulers a claim could take now (the leader's snapshot of free nets) */
  freeSchedulersSql: string;
  /** the ids of the queued jobs (the snapshot of what waits) */
  queuedJobsSql: string;
}

/** Session advisory lock held, on its events connection, by the instance that dispatches changes at once. */
export const DISPATCH_LEADER_LOCK = 7_291_002;

/** How often a follower looks, when the follower delay is 0 (it then only tries to take the lead). */
const WATCH_WITHOUT_DELAY_MS = 1_000;

/** What the lead needs from the events connection it lives on. */
export interface LeadHost {
  readonly logger: Logger;
  readonly instanceName: string;
  readonly followerDelayMs: number;
  /** the current events connection, null while it is down */
  current(): pg.Client | null;
  /** this instance competes for the lead (automatic pickup on, not shutting down) */
  competes(): boolean;
  rules(): DispatchRules | null;
  /** the lead was taken: hear every change, and dispatch what waits now */
  onLead(): Promise<void>;
  /** a follower's look found a free net and a queued job left undispatched */
  onUndispatched(): void;
}

/**
 * The dispatch lead of one instance (see EventsListener): held as a session
 * advisory lock on the events connection, so it goes with a dead leader's
 * session. A follower looks every PICKUP_FOLLOWER_DELAY_MS, in one statement:
 * it tries to take the lead, and asks whether a free net and a valid queued
 * job have both waited longer than the delay (a leader that hangs).
 */
export class DispatchLead {
  private leading = false;
  private watchTimer: NodeJS.Timeout | null = null;
  /** the connection a follower's look is running on */
  private lookingOn: pg.Client | null = null;

  constructor(private readonly host: LeadHost) {}

  get held(): boolean {
    return this.leading;
  }

  /** The connection went, and the lock with its session. */
  lost(): void {
    this.leading = false;
  }

  /** Gives the lead up now (shutdown), not when the connection closes. */
  async resign(client: pg.Client | null): Promise<void> {
    this.stopWatching();
    if (!this.leading || !client) return;
    this.leading = false;
    // every hold of the lock on this session (pg_try_advisory_lock stacks), and nothing else is locked there
    await client.query('select pg_advisory_unlock_all()').catch(() => undefined);
  }

  /** A follower looks every PICKUP_FOLLOWER_DELAY_MS. */
  watch(): void {
    if (this.watchTimer || !this.host.competes()) return;
    const delay = this.host.followerDelayMs;
    this.watchTimer = setInterval(
      () => {
        const client = this.host.current();
        if (!client || this.leading || this.lookingOn === client) return;
        void this.look(client, delay > 0);
      },
      delay > 0 ? delay : WATCH_WITHOUT_DELAY_MS,
    );
    this.watchTimer.unref();
  }

  stopWatching(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
  }

  /** One statement: take the lead if it is free; and, if asked, is a free net and a queued job left undispatched? */
  async look(client: pg.Client, claimIfUndispatched: boolean): Promise<void> {
    this.lookingOn = client;
    try {
      const ask = claimIfUndispatched ? (this.host.rules()?.undispatchedSql ?? null) : null;
      const { rows } = await client.query<{ locked: boolean; undispatched: boolean }>(
        `select pg_try_advisory_lock(${DISPATCH_LEADER_LOCK}) as locked, ${ask ? `(${ask})` : 'false'} as undispatched`,
        ask ? [this.host.followerDelayMs] : [],
      );
      const { locked } = rows[0];
      if (locked) {
        if (client !== this.host.current() || !this.host.competes()) {
          // lost meanwhile, or shutting down: do not keep a lead nobody exercises
          await client.query('select pg_advisory_unlock_all()').catch(() => undefined);
          return;
        }
        this.leading = true;
        this.host.logger.log(`${this.host.instanceName} dispatches changes at once (it holds the dispatch lead)`);
        await this.host.onLead();
      } else if (rows[0].undispatched && client === this.host.current()) {
        this.host.onUndispatched();
      }
    } catch {
      // the connection failed or hangs (query timeout): a new one is made, and this is tried again on it
      if (client === this.host.current()) await client.end().catch(() => undefined);
    } finally {
      if (this.lookingOn === client) this.lookingOn = null;
    }
  }
}
