import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { PickupSignal } from '../common/pickup-signal.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DATABASE_URL, HUB_INSTANCE_NAME, HUB_INSTANCE_PREFIX } from '../database/database.tokens.js';
import { DispatchView } from './dispatch-view.js';
import { EVENTS_CHANNEL, parseHubEvent, type HubEvent } from './hub-events.js';

const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5_000;

/**
 * LISTENs on `fl_events` over a dedicated connection and fans the changes out
 * in this process: to the pickup cycle (a job queued or a net freed on ANY
 * instance starts a cycle here within milliseconds) and to the GraphQL
 * subscriptions. Reconnects with backoff; while disconnected, the interval
 * cycle remains the safety net.
 *
 * Who dispatches a change: the instance that made it, at once (its own
 * notification says so, `origin`); every other instance only if the change is
 * still undispatched PICKUP_FOLLOWER_DELAY_MS later (that instance died, or is
 * saturated) — so N instances do not all race for every freed net and waste a
 * claim transaction each. Changes made outside any hub (hand-written SQL) are
 * everybody's at once.
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
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'fl-scheduler-events' });
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
      if (!this.dispatchesAtOnce(event)) this.followUp();
      // a net this instance freed: claim that net (other instances claim the nets they freed)
      else if (event.kind === 'scheduler' && event.origin === this.instanceName) this.pickup.request(new Set([event.id]));
      else this.pickup.request();
    }
    for (const listener of this.listeners) listener(event);
  }

  /** This instance made the change, or no hub did. */
  private dispatchesAtOnce(event: HubEvent): boolean {
    if (this.config.pickupFollowerDelayMs === 0) return true;
    return event.origin === this.instanceName || !event.origin?.startsWith(HUB_INSTANCE_PREFIX);
  }

  /** Another instance's change: claim only if, after the delay, a free net and a queued job are still known. */
  private followUp(): void {
    if (this.followerTimer || this.closing) return;
    this.followerTimer = setTimeout(() => {
      this.followerTimer = null;
      if (!this.closing && this.view.worthACycle()) this.pickup.request();
    }, this.config.pickupFollowerDelayMs);
  }
}
