import { Inject, Injectable, Logger } from '@nestjs/common';
import { conflict } from '../../../common/errors.js';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { DispatchView } from '../../../events/dispatch-view.js';
import type { JobRow } from '../../jobs/job.sql.js';
import type { Claim } from '../../jobs/lifecycle/claim.js';
import { ClaimService } from './claim.service.js';
import { AdmissionService } from '../net-state/admission.service.js';
import { RecoveryService } from '../net-state/recovery.service.js';
import { EndedBeforeSubmit, TrainingService } from '../running/training.service.js';

export interface PickupCycleResult {
  started: JobRow[];
  failed: JobRow[];
}

/**
 * `full`: lease recovery and retirement of invalid queued jobs, then claims
 * (the interval tick, `runPickupCycle`). `fast`: claims only — what a queued
 * job or a freed net needs, within milliseconds.
 */
export type CycleKind = 'full' | 'fast';

/** A wake-up comes this long after the wait's end (the database's clock has surely passed it), and never sooner. */
const WAKE_SLACK_MS = 50;
/** When the next wait's end cannot be read (the database is away), a full cycle is tried again this soon. */
const WAKE_RETRY_MS = 1000;

/** A guard against a cycle that keeps claiming because every start fails fast. */
const MAX_ROUNDS_PER_CYCLE = 20;

/**
 * One pickup cycle: recover expired leases, claim every free net with the
 * oldest valid jobs (one transaction), then start each claimed job on its net
 * (HTTP, after the commit). Claims never overlap on this instance; other
 * instances may claim at the same time — the claim keeps them apart.
 *
 * A triggered cycle (`trigger`) holds the instance's claim turn only for the
 * claim itself: the starts on the nets run on, so a net freed meanwhile is
 * claimed at once rather than after the slowest net of the last batch has
 * answered. `runPickupCycle` waits for its starts (it reports them).
 */
@Injectable()
export class PickupService {
  private readonly logger = new Logger('Pickup');
  private current: Promise<PickupCycleResult> | null = null;
  private rerun: CycleKind | null = null;
  private stopped = false;
  /** starts of triggered cycles still talking to their nets */
  private readonly starting = new Set<Promise<void>>();
  /** the wake-up at the next backoff's end (automatic pickup only) */
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;
  private wakeOff = false;

  constructor(
    private readonly claims: ClaimService,
    private readonly recovery: RecoveryService,
    private readonly admission: AdmissionService,
    private readonly training: TrainingService,
    private readonly view: DispatchView,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Runs a full cycle now; if one is running, waits for it and then runs a fresh one. */
  async runPickupCycle(): Promise<PickupCycleResult> {
    while (this.current) await this.current.catch(() => undefined);
    if (this.stopped) throw conflict('the hub is shutting down: it starts no new pickup cycle (another instance will)');
    return this.startCycle('full', true);
  }

  /** Asks for a cycle soon: starts one, or marks the running one to go again when it ends. */
  trigger(kind: CycleKind): void {
    if (this.stopped) return;
    if (this.current) {
      this.rerun = this.rerun === 'full' ? 'full' : kind;
      return;
    }
    this.startCycle(kind, false).catch((error: unknown) => this.logger.error(`pickup cycle failed: ${String(error)}`));
  }

  /** Shutdown: no new cycle from now on (a pending re-run is dropped); `idle()` then waits for the one in flight. */
  stop(): void {
    this.stopped = true;
    this.rerun = null;
    this.stopWaking();
  }

  /** Shutdown, first of all: no wake-up at a backoff's end starts a cycle any more. */
  private stopWaking(): void {
    this.wakeOff = true;
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = null;
  }

  /** Resolves when no cycle and no start is running on this instance (used at shutdown). */
  async idle(): Promise<void> {
    while (this.current || this.starting.size > 0) {
      await Promise.all([this.current?.catch(() => undefined), ...this.starting]);
    }
  }

  private startCycle(kind: CycleKind, awaitStarts: boolean): Promise<PickupCycleResult> {
    const run = (awaitStarts ? this.cycle(kind) : this.claimAndLaunch(kind)).then(
      (result) => {
        if (kind === 'full') void this.armWake();
        return result;
      },
      (error: unknown) => {
        if (kind === 'full') void this.armWake(); // the database may be away: try again soon
        throw error;
      },
    );
    const cycle = run.finally(() => {
      this.current = null;
      const rerun = this.rerun;
      this.rerun = null;
      if (rerun) this.trigger(rerun);
    });
    this.current = cycle;
    return cycle;
  }

  private async prelude(kind: CycleKind): Promise<void> {
    if (kind === 'full') {
      await this.recovery.recoverExpiredLeases();
      await this.claims.retireInvalidQueuedJobs();
      await this.admission.expireWaitingJobs();
      await this.admission.probeDueNets();
    }
  }

  /**
   * With automatic pickup on, a full cycle wakes at the next wait's end (a
   * job's backoff, a net's probe, a waiting job's removal), read from the
   * database: on every instance, whichever recorded the wait. Asked after
   * every full cycle and after a cycle with failed starts.
   */
  private async armWake(): Promise<void> {
    if (this.wakeOff || this.config.pickupIntervalMs <= 0) return;
    // the database away: look again a little later, so that no wait is forgotten
    const next = await this.admission.nextWakeAt().catch(() => new Date(Date.now() + WAKE_RETRY_MS));
    if (!next || this.wakeOff) return;
    // never sooner than WAKE_SLACK_MS: a wait that stays due (a cycle that keeps failing) cannot spin
    const at = Math.max(next.getTime(), Date.now()) + WAKE_SLACK_MS;
    if (this.wake && this.wake.at <= at && this.wake.at > Date.now()) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = null;
      this.trigger('full');
    }, at - Date.now());
    timer.unref();
    this.wake = { at, timer };
  }

  /**
   * A triggered cycle: claim, then leave the starts running. A start that
   * fails frees its net, which is announced and triggers the next cycle.
   */
  private async claimAndLaunch(kind: CycleKind): Promise<PickupCycleResult> {
    await this.prelude(kind);
    // a fast cycle with nothing to dispatch, by the notifications, saves its claim transaction
    if (kind === 'fast' && this.view.live && !this.view.worthACycle()) return { started: [], failed: [] };
    const claimed = await this.claim();
    // a claim that found nothing although a change asked for one: what holds the queue may be a wait only a
    // full cycle ends (a held-back net's probe, after a sweep freed it); wake at that wait's end
    if (claimed.length === 0 && kind === 'fast') void this.armWake();
    if (claimed.length > 0) {
      const starts: Promise<void> = Promise.all(claimed.map((claim) => this.start(claim)))
        .then(
          (outcomes) => {
            const started = outcomes.filter((o) => o.outcome === 'started').length;
            const failed = outcomes.filter((o) => o.outcome === 'failed').length;
            this.logger.log(`pickup cycle: ${started} started, ${failed} failed`);
            if (failed > 0) void this.armWake();
          },
          (error: unknown) => this.logger.error(`starting claimed jobs failed: ${String(error)}`),
        )
        .finally(() => this.starting.delete(starts));
      this.starting.add(starts);
    }
    return { started: [], failed: [] };
  }

  /** An explicit cycle: claims and waits for the starts, again while starts fail (each frees its net). */
  private async cycle(kind: CycleKind): Promise<PickupCycleResult> {
    const result: PickupCycleResult = { started: [], failed: [] };
    await this.prelude(kind);
    for (let round = 0; round < MAX_ROUNDS_PER_CYCLE; round++) {
      const claimed = await this.claim();
      if (claimed.length === 0) break;
      const outcomes = await Promise.all(claimed.map((claim) => this.start(claim)));
      for (const { outcome, job } of outcomes) {
        if (outcome === 'started') result.started.push(job);
        else if (outcome === 'failed') result.failed.push(job);
      }
      // a failed start frees (or sweeps and frees) its net: claim again so that the next job does not wait for a tick
      if (outcomes.every((o) => o.outcome === 'started')) break;
    }
    if (result.started.length + result.failed.length > 0) {
      this.logger.log(`pickup cycle: ${result.started.length} started, ${result.failed.length} failed`);
    }
    if (result.failed.length > 0) void this.armWake();
    return result;
  }

  /** A claim, unless the hub started shutting down meanwhile (checked again once the claim's turn has come). */
  private async claim(): Promise<Claim[]> {
    if (this.stopped) return [];
    const claimed = await this.claims.claimBatch(() => !this.stopped);
    this.view.claimed(
      claimed.map((c) => c.schedulerId),
      claimed.map((c) => c.job.id),
    );
    return claimed;
  }

  /** `ended`: a completion report ended the job before its submit — neither started nor failed. */
  private async start(claim: Claim): Promise<{ outcome: 'started' | 'failed' | 'ended'; job: JobRow }> {
    try {
      return { outcome: 'started', job: await this.training.prepareAndStartTraining(claim, claim.trustIds) };
    } catch (error) {
      const job = (await this.training.currentJob(claim.job.id)) ?? claim.job;
      return { outcome: error instanceof EndedBeforeSubmit ? 'ended' : 'failed', job };
    }
  }
}
