import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { PickupSignal } from '../common/pickup-signal.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DATABASE_URL, HUB_INSTANCE_NAME } from '../database/database.tokens.js';
import { DispatchView } from './dispatch-view.js';
import { EVENTS_CHANNEL, parseHubEvent, type HubEvent } from './hub-events.js';

const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5_000;
/** Session advisory lock held, on its LISTEN connection, by the instance that dispatches changes at once. */
export const DISPATCH_LEADER_LOCK = 7_291_002;

/**
 * LISTENs on `fl_events` over a dedicated connection and fans the changes out
 * in this process: to the pickup cycle (a job queued or a net freed on ANY
 * instance starts a cycle here within milliseconds) and to the GraphQL
 * subscriptions. Reconnects with backoff; while disconnected, the interval
 * cycle remains the safety net.
 *
 * Who dispatches a change: the LEADER, at once — the instance that holds a
 * session advisory lock on its LISTEN connection (only instances with
 * automatic pickup compete for it). Every other instance claims only if the
 * change is still undispatched PICKUP_FOLLOWER_DELAY_MS later (the leader
 * died, hangs or is saturated), and then also tries to take the lead. So N
 * instances neither race for every freed net nor lose the batching of one
 * dispatcher, and no instance is needed for a job to be dispatched: the lock
 * goes with the leader's session, and the followers cover the gap.
 */
@Injectable()
export class EventsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Events');
  private readonly listeners = new Set<(event: HubEvent) => void>();
  private client: pg.Client | null = null;
  private closing = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private followerTimer: NodeJS.Timeout | null = null;
  private leading = false;
  private resigned = false;
  private leadAttempt: Promise<void> | null = null;

  constructor(
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    @Inject(HUB_INSTANCE_NAME) private readonly instanceName: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pickup: PickupSignal,
    private readonly view: DispatchView,
  ) {}

  onEvent(listener: (event: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get connected(): boolean {
    return this.client !== null;
  }

  /** This instance dispatches every change at once (it holds the dispatch lock). */
  get leader(): boolean {
    return this.leading;
  }

  /** Shutdown: leave the lead to another instance now, not when the connection closes. */
  async resign(): Promise<void> {
    this.resigned = true;
    if (!this.leading || !this.client) return;
    this.leading = false;
    // every hold of the lock on this session (pg_try_advisory_lock stacks), and nothing else is locked there
    await this.client.query('select pg_advisory_unlock_all()').catch(() => undefined);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.followerTimer) clearTimeout(this.followerTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: `${this.instanceName}/events` });
    client.on('notification', (message) => this.dispatch(message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
      // after LISTEN, so that no change falls between the snapshot and the stream
      const free = await client.query<{ id: string }>(`select id from scheduler where status = 'AVAILABLE'`);
      const queued = await client.query<{ id: string }>(`select id from job where status = 'QUEUED'`);
      this.view.reset(
        free.rows.map((r) => r.id),
        queued.rows.map((r) => r.id),
      );
      this.client = client;
      await this.tryToLead(client);
      this.pickup.setNotificationsLive(true);
      if (this.reconnectDelay > RECONNECT_MIN_MS) this.logger.log('listening for changes again');
      this.reconnectDelay = RECONNECT_MIN_MS;
      // changes made while we were away are picked up by this cycle
      this.pickup.request();
    } catch (error) {
      await client.end().catch(() => undefined);
      this.lost(client, error);
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.closing) return;
    if (this.client !== null && this.client !== client) return; // an old connection ending late
    this.client = null;
    this.leading = false; // the lock went with the session
    this.view.lost();
    this.pickup.setNotificationsLive(false);
    if (this.reconnectTimer) return;
    this.logger.warn(
      `change notifications lost${error instanceof Error ? `: ${error.message}` : ''}; reconnecting in ${this.reconnectDelay} ms`,
    );
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  private dispatch(payload: string | undefined): void {
    const event = parseHubEvent(payload);
    if (!event) return;
    if (this.view.apply(event)) {
      if (this.leading || this.config.pickupFollowerDelayMs === 0) this.pickup.request();
      else this.followUp();
    }
    for (const listener of this.listeners) listener(event);
  }

  /** Takes the lead if nobody holds it (instances with automatic pickup only); one attempt at a time. */
  private tryToLead(client: pg.Client): Promise<void> {
    if (this.leading || this.resigned || this.closing || this.config.pickupIntervalMs === 0) return Promise.resolve();
    this.leadAttempt ??= this.attemptToLead(client).finally(() => (this.leadAttempt = null));
    return this.leadAttempt;
  }

  private async attemptToLead(client: pg.Client): Promise<void> {
    try {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
        DISPATCH_LEADER_LOCK,
      ]);
      if (rows[0].locked && client === this.client) {
        this.leading = true;
        this.logger.log(`${this.instanceName} dispatches changes at once (it holds the dispatch lead)`);
      }
    } catch {
      // the connection is gone: lost() reconnects, and this is tried again then
    }
  }

  /**
   * Not the leader: claim only if, after the delay, a free net and a queued
   * job have sat idle the whole time (the leader did not dispatch them) — and
   * take the lead if it is free. Newer changes meanwhile get a look of their own.
   */
  private followUp(): void {
    if (this.followerTimer || this.closing) return;
    const since = this.view.stamp();
    this.followerTimer = setTimeout(() => {
      this.followerTimer = null;
      if (this.closing) return;
      if (this.view.idleSince(since)) {
        this.pickup.request();
        if (this.client) void this.tryToLead(this.client);
      } else if (this.view.worthACycle()) {
        this.followUp();
      }
    }, this.config.pickupFollowerDelayMs);
  }
}
