import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { PickupSignal } from '../common/pickup-signal.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DATABASE_URL, HUB_INSTANCE_NAME } from '../database/database.tokens.js';
import { IDLE_TIMEOUT_EXEMPTION } from '../database/mikro-orm.options.js';
import { MetricsService } from '../observability/metrics.service.js';
import { DispatchLead, type DispatchRules } from './dispatch-lead.js';
import { DispatchView } from './dispatch-view.js';
import { EVENTS_CHANNEL, parseHubEvent, type HubEvent } from './hub-events.js';

export { DISPATCH_LEADER_LOCK, type DispatchRules } from './dispatch-lead.js';

const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5_000;
/** A statement on the events connection that takes longer means the connection is stuck. */
const EVENTS_QUERY_TIMEOUT_MS = 10_000;
/**
 * The dedicated connection over which this instance hears of the changes
 * made on any instance (LISTEN on `fl_events`, fed by the database triggers)
 * and fans them out in this process: to the pickup cycle and to the GraphQL
 * subscriptions. Reconnects with backoff; while disconnected, the interval
 * cycle remains the safety net.
 *
 * Who dispatches a change: the LEADER, at once — the instance that holds a
 * session advisory lock on this connection (only instances with automatic
 * pickup compete for it). The others do not listen to the stream unless a
 * GraphQL subscription on them needs it: with N instances the database wakes
 * one listener per change, not N. Instead each follower looks every
 * PICKUP_FOLLOWER_DELAY_MS, in one statement: it tries to take the lead (the
 * lock goes with a dead leader's session, so a follower leads within one
 * look), and it claims if a free net and a valid queued job have both waited
 * longer than the delay (a leader that hangs or is saturated). So N instances
 * neither race for every freed net nor lose the batching of one dispatcher,
 * and no instance is needed for a job to be dispatched.
 */
@Injectable()
export class EventsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Events');
  private readonly listeners = new Set<(event: HubEvent) => void>();
  private client: pg.Client | null = null;
  /** the connection being made or in use: events of any older one are ignored */
  private latest: pg.Client | null = null;
  private closing = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly lead: DispatchLead;
  private resigned = false;
  /** LISTEN is on, on the current connection */
  private listening = false;
  /** GraphQL subscriptions of this instance (they need the stream) */
  private streamUsers = 0;
  /** LISTEN/UNLISTEN and the view's snapshot, one change at a time */
  private streamSync: Promise<void> = Promise.resolve();
  /** changes heard while the view's snapshot is being taken: applied after it, in order */
  private heldBack: HubEvent[] | null = null;
  /** the scheduling rules' questions (see `followUpWith`); until they are given, nothing is known to wait */
  private rules: DispatchRules | null = null;

  constructor(
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
    @Inject(HUB_INSTANCE_NAME) private readonly instanceName: string,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pickup: PickupSignal,
    private readonly view: DispatchView,
    metrics: MetricsService,
  ) {
    this.lead = new DispatchLead({
      logger: this.logger,
      instanceName,
      followerDelayMs: config.pickupFollowerDelayMs,
      current: () => this.client,
      competes: () => this.competes,
      rules: () => this.rules,
      onLead: async () => {
        await this.syncStream(); // the leader hears every change
        this.pickup.request(); // and dispatches what waits now
      },
      onUndispatched: () => this.pickup.request(),
    });
    metrics.reportDispatchLeader(() => this.lead.held);
  }

  /** The scheduling rules' questions, asked here in their words (the events layer knows no module). */
  followUpWith(rules: DispatchRules): void {
    this.rules = rules;
  }

  onEvent(listener: (event: HubEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The events connection is up: changes made here reach whoever dispatches them. */
  get connected(): boolean {
    return this.client !== null;
  }

  /** This instance hears every change now (it leads, or a subscription needs the stream). */
  get streaming(): boolean {
    return this.listening;
  }

  /** This instance dispatches every change at once (it holds the dispatch lock). */
  get leader(): boolean {
    return this.lead.held;
  }

  /**
   * A subscription needs the stream: resolves once this instance LISTENs
   * (every change committed from then on reaches `onEvent`) — or, while the
   * events connection is down, at once: the stream starts when it is back.
   * Call the returned function when the stream is no longer needed.
   */
  async retainStream(): Promise<() => void> {
    this.streamUsers++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.streamUsers--;
      void this.syncStream();
    };
    await this.syncStream();
    return release;
  }

  /** Shutdown: leave the lead to another instance now, not when the connection closes. */
  async resign(): Promise<void> {
    this.resigned = true;
    await this.lead.resign(this.client);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.lead.stopWatching();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** Instances with automatic pickup compete for the lead. */
  private get competes(): boolean {
    return this.config.pickupIntervalMs > 0 && !this.resigned && !this.closing;
  }

  private wantsStream(): boolean {
    // with no follower delay every competing instance dispatches every change itself
    return this.lead.held || this.streamUsers > 0 || (this.competes && this.config.pickupFollowerDelayMs === 0);
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: `${this.instanceName}/events`,
      // a half-open connection must not silence this instance: found dead, it is replaced
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: EVENTS_QUERY_TIMEOUT_MS,
    });
    this.latest = client;
    client.on('notification', (message) => this.dispatch(message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      // this session is meant to idle while it listens: a server-wide idle-session timeout would cut it (and the lead) again and again
      await client.query(IDLE_TIMEOUT_EXEMPTION);
      this.client = client;
      if (this.competes) await this.lead.look(client, false);
      await this.syncStream();
      if (this.client !== client) return;
      this.pickup.setNotificationsLive(true);
      if (this.reconnectDelay > RECONNECT_MIN_MS) this.logger.log('the events connection is back');
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.lead.watch();
      // changes made while we were away are picked up by this cycle
      this.pickup.request();
    } catch (error) {
      if (this.client === client) this.client = null;
      this.lost(client, error); // first, so that the log says why
      await client.end().catch(() => undefined);
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.closing) return;
    if (client !== this.latest) return; // an old connection ending late
    this.client = null;
    this.lead.lost(); // the lock went with the session
    this.listening = false;
    this.heldBack = null;
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

  /** Brings LISTEN in line with `wantsStream()`; one change at a time. */
  private syncStream(): Promise<void> {
    this.streamSync = this.streamSync
      .then(() => this.applyStreamWish())
      .catch((error: unknown) => {
        // the connection failed: lost() reconnects, and the wish is applied again then
        this.logger.debug(`LISTEN/UNLISTEN failed: ${String(error)}`);
      });
    return this.streamSync;
  }

  private async applyStreamWish(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const wanted = this.wantsStream();
    if (wanted && !this.listening) {
      this.heldBack = [];
      let snapshot: { free: string[]; queued: string[] };
      try {
        await client.query(`listen ${EVENTS_CHANNEL}`);
        // after LISTEN, so that no change falls between the snapshot and the stream
        const rules = this.rules;
        const { rows } = rules
          ? await client.query<{ free: string[]; queued: string[] }>(
              `select array(${rules.freeSchedulersSql}) as free, array(${rules.queuedJobsSql}) as queued`,
            )
          : { rows: [{ free: [], queued: [] }] };
        snapshot = rows[0];
      } catch (error) {
        // half a stream is no stream: start over on a new connection
        this.heldBack = null;
        await client.end().catch(() => undefined);
        throw error;
      }
      if (client !== this.client) return;
      this.view.reset(snapshot.free, snapshot.queued);
      // changes heard meanwhile are as new as the snapshot or newer: in order, they bring it up to date
      const heldBack = this.heldBack ?? [];
      this.heldBack = null;
      this.listening = true;
      for (const event of heldBack) this.view.apply(event);
    } else if (!wanted && this.listening) {
      this.listening = false;
      this.view.lost();
      await client.query(`unlisten ${EVENTS_CHANNEL}`);
    }
  }

  private dispatch(payload: string | undefined): void {
    const event = parseHubEvent(payload);
    if (!event) return;
    if (this.heldBack) this.heldBack.push(event);
    else if (this.listening && this.view.apply(event) && (this.lead.held || this.config.pickupFollowerDelayMs === 0)) {
      this.pickup.request();
    }
    for (const listener of this.listeners) listener(event);
  }
}
