import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { PickupSignal } from '../../common/pickup-signal.js';
import { query, sql } from '../../database/sql.js';
import { policyFor } from '../../fl-backends/backend-policy.js';
import type { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import { NetClient } from '../../fl-backends/net-client.js';
import { toClientRecords } from './client-report.js';
import { recordClientStatuses } from './net-client.sql.js';

/** A net is due again after this share of the interval: the instance that polled it last keeps polling it. */
const DUE_AFTER_SHARE = 0.8;

interface DueNet {
  id: string;
  name: string;
  endpoint: string;
  flBackend: FlBackend;
}

/**
 * Keeps what the hub knows of each net's clients fresh: every
 * CLIENT_STATUS_INTERVAL_MS it asks the nets it takes (`check_client_status`,
 * all at once, each bounded by the net call timeout) and records each answer,
 * or an unreachable net's clients as offline. With several instances, one
 * statement takes the nets that are due (a compare-and-set on
 * `net.clients_polled_at`), so each net is polled about once per interval,
 * not once per instance.
 */
@Injectable()
export class ClientStatusRefresher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ClientStatus');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly em: EntityManager,
    private readonly nets: NetClient,
    private readonly pickup: PickupSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.clientStatusIntervalMs;
    if (interval <= 0) return;
    this.timer = setInterval(() => void this.refreshDue(), interval);
    this.timer.unref();
    void this.refreshDue();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopPolling();
    await this.running;
  }

  /**
   * No round starts from now on (a round in flight ends on its own). Also
   * called at once when a shutdown signal arrives: the shutdown hooks run
   * module by module, and a poll due while an earlier module waits for a
   * start would be a new net call from a hub that is leaving (another
   * instance polls the nets from then on).
   */
  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round: the due nets, asked concurrently; a round still running makes this one a no-op. */
  refreshDue(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<void> {
    try {
      const due = await this.takeDueNets();
      await Promise.all(due.map((net) => this.refresh(net)));
    } catch (error) {
      this.logger.warn(`client status refresh failed: ${String(error)}`);
    }
  }

  private takeDueNets(): Promise<DueNet[]> {
    const dueAfterMs = Math.round(this.config.clientStatusIntervalMs * DUE_AFTER_SHARE);
    return query<DueNet>(
      this.em.fork(),
      sql`update net set clients_polled_at = now()
          where clients_polled_at is null or clients_polled_at <= now() - (${dueAfterMs} * interval '1 millisecond')
          returning id, name, endpoint, fl_backend as "flBackend"`,
    );
  }

  private async refresh(net: DueNet): Promise<void> {
    let records = null;
    try {
      records = toClientRecords(policyFor(net.flBackend), await this.nets.checkClientStatus(net));
    } catch (error) {
      this.logger.debug(
        `net "${net.name}": ${error instanceof Error ? error.message : String(error)}; its clients count as offline`,
      );
    }
    try {
      const { cameOnline } = await recordClientStatuses(this.em.fork(), net.id, records);
      // a job waiting for these clients may start now: a cycle here, without waiting for the interval
      if (cameOnline > 0) this.pickup.request();
    } catch (error) {
      this.logger.warn(`could not record the client status of net "${net.name}": ${String(error)}`);
    }
  }
}
