import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { PickupSignal } from '../common/pickup-signal.js';
import { DATABASE_URL } from '../database/database.tokens.js';
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
 */
@Injectable()
export class EventsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Events');
  private readonly listeners = new Set<(event: HubEvent) => void>();
  private client: pg.Client | null = null;
  private closing = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly view = new DispatchView();

  constructor(
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    private readonly pickup: PickupSignal,
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
    if (this.view.apply(event) && this.view.worthACycle()) this.pickup.request();
    for (const listener of this.listeners) listener(event);
  }
}
