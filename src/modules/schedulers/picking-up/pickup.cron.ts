import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { PickupSignal } from '../../../common/pickup-signal.js';
import { EventsListener } from '../../../events/events.listener.js';
import { PickupService, type CycleKind } from './pickup.service.js';
import { ReconcileService } from '../running/reconcile.service.js';
import { FREE_SCHEDULER_IDS_SQL, QUEUED_JOB_IDS_SQL, UNDISPATCHED_SQL } from '../net-state/scheduler.sql.js';
import { StartTimeWake } from './start-time-wake.js';

/**
 * Drives the pickup cycle: every PICKUP_INTERVAL_MS (the safety net), and at
 * once when a job is queued or a net is freed. Also reconciles running jobs
 * with their nets every RECONCILE_INTERVAL_MS, and wakes at the next queued
 * job's start time or the end of a hold on one of its trusts (`StartTimeWake`). PICKUP_INTERVAL_MS=0 turns all
 * automatic pickup off (only `runPickupCycle` and the step mutations dispatch).
 */
@Injectable()
export class PickupCron implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PickupCron');
  private readonly unsubscribe: Array<() => void> = [];
  private readonly wake: StartTimeWake;
  private reconciling = false;
  private stopped = false;

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly pickup: PickupService,
    private readonly reconciler: ReconcileService,
    private readonly signal: PickupSignal,
    private readonly events: EventsListener,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    em: EntityManager,
  ) {
    events.followUpWith({
      undispatchedSql: UNDISPATCHED_SQL,
      freeSchedulersSql: FREE_SCHEDULER_IDS_SQL,
      queuedJobsSql: QUEUED_JOB_IDS_SQL,
    });
    this.wake = new StartTimeWake(em, () => this.tick('full'), this.logger);
  }

  onApplicationBootstrap(): void {
    if (this.config.pickupIntervalMs > 0) {
      this.registry.addInterval(
        'pickup',
        setInterval(() => {
          this.tick('full');
          void this.wake.refresh();
        }, this.config.pickupIntervalMs),
      );
      this.unsubscribe.push(
        this.signal.onRequest(() => this.tick('fast')),
        this.signal.onStartTime((time) => this.wake.at(time)),
        this.events.onEvent((event) => {
          if (event.kind === 'job' && event.status === 'QUEUED' && event.notBefore) this.wake.at(new Date(event.notBefore));
          // a hold that ends by itself: the jobs it holds start then
          if (event.kind === 'trust' && event.holdUntil) this.wake.at(new Date(event.holdUntil));
        }),
      );
      this.tick('full');
      void this.wake.refresh();
    } else {
      this.logger.log('automatic pickup is off (PICKUP_INTERVAL_MS=0)');
    }
    if (this.config.reconcileIntervalMs > 0) {
      this.registry.addInterval(
        'reconcile',
        setInterval(() => void this.reconcile(), this.config.reconcileIntervalMs),
      );
    }
  }

  /**
   * Before the database pool closes: stop taking new cycles and let an
   * in-flight one finish (anything it still leaves is recovered by lease expiry).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopTakingCycles();
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.wake.stop();
    await this.events.resign(); // another instance dispatches from now on
    for (const name of ['pickup', 'reconcile']) {
      if (this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
    }
    await this.pickup.idle();
    while (this.reconciling) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /**
   * Shutdown, first of all (synchronously, when the signal arrives — before
   * any shutdown hook awaits anything): no cycle starts from now on — no
   * tick, no wake-up, no re-run asked for by a cycle still in flight.
   */
  stopTakingCycles(): void {
    this.stopped = true;
    this.pickup.stop();
  }

  private tick(kind: CycleKind): void {
    if (!this.stopped) this.pickup.trigger(kind);
  }

  private async reconcile(): Promise<void> {
    if (this.reconciling || this.stopped) return;
    this.reconciling = true;
    try {
      await this.reconciler.reconcile();
    } catch (error) {
      this.logger.error(`reconcile failed: ${String(error)}`);
    } finally {
      this.reconciling = false;
    }
  }
}
