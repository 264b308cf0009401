import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ClaimScope } from '../../common/pickup-signal.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DispatchView } from '../../events/dispatch-view.js';
import type { JobRow } from '../jobs/job.sql.js';
import { ClaimService, type Claim } from './claim.service.js';
import { RecoveryService } from './recovery.service.js';
import { TrainingService } from './training.service.js';

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

/** Either scope if one is "every net", else both sets of nets. */
function mergeScopes(a: ClaimScope, b: ClaimScope): ClaimScope {
  return a === null || b === null ? null : new Set([...a, ...b]);
}

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
  private rerun: { kind: CycleKind; scope: ClaimScope } | null = null;
  private stopped = false;
  private followUpTimer: NodeJS.Timeout | null = null;
  /** starts of triggered cycles still talking to their nets */
  private readonly starting = new Set<Promise<void>>();

  constructor(
    private readonly claims: ClaimService,
    private readonly recovery: RecoveryService,
    private readonly training: TrainingService,
    private readonly view: DispatchView,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Runs a full cycle now; if one is running, waits for it and then runs a fresh one. */
  async runPickupCycle(): Promise<PickupCycleResult> {
    while (this.current) await this.current.catch(() => undefined);
    return this.startCycle('full', null, true);
  }

  /**
   * Asks for a cycle soon: starts one, or marks the running one to go again
   * when it ends. `scope`: the nets a fast cycle should claim (null: any).
   */
  trigger(kind: CycleKind, scope: ClaimScope = null): void {
    if (this.stopped) return;
    const wanted = kind === 'full' ? null : scope;
    if (this.current) {
      this.rerun = this.rerun
        ? { kind: this.rerun.kind === 'full' ? 'full' : kind, scope: mergeScopes(this.rerun.scope, wanted) }
        : { kind, scope: wanted };
      return;
    }
    this.startCycle(kind, wanted, false).catch((error: unknown) => this.logger.error(`pickup cycle failed: ${String(error)}`));
  }

  /** Shutdown: no new cycle from now on (a pending re-run is dropped); `idle()` then waits for the one in flight. */
  stop(): void {
    this.stopped = true;
    this.rerun = null;
    if (this.followUpTimer) clearTimeout(this.followUpTimer);
    this.followUpTimer = null;
  }

  /** Resolves when no cycle and no start is running on this instance (used at shutdown). */
  async idle(): Promise<void> {
    while (this.current || this.starting.size > 0) {
      await Promise.all([this.current?.catch(() => undefined), ...this.starting]);
    }
  }

  private startCycle(kind: CycleKind, scope: ClaimScope, awaitStarts: boolean): Promise<PickupCycleResult> {
    const cycle = (awaitStarts ? this.cycle(kind) : this.claimAndLaunch(kind, scope)).finally(() => {
      this.current = null;
      const rerun = this.rerun;
      this.rerun = null;
      if (rerun) this.trigger(rerun.kind, rerun.scope);
    });
    this.current = cycle;
    return cycle;
  }

  private async prelude(kind: CycleKind): Promise<void> {
    if (kind === 'full') {
      await this.recovery.recoverExpiredLeases();
      await this.claims.retireInvalidQueuedJobs();
    }
  }

  /**
   * A triggered cycle: claim, then leave the starts running. A start that
   * fails frees its net, which is announced and triggers the next cycle.
   */
  private async claimAndLaunch(kind: CycleKind, scope: ClaimScope): Promise<PickupCycleResult> {
    await this.prelude(kind);
    // a fast cycle with nothing to dispatch, by the notifications, saves its claim transaction
    if (kind === 'fast' && this.view.live && !this.view.worthACycle()) return { started: [], failed: [] };
    const claimed = await this.claim(scope);
    // some of our nets found no job (none queued, or all locked by another claim): look again soon, at any net
    if (scope && claimed.length < scope.size) this.followUp();
    if (claimed.length > 0) {
      const starts: Promise<void> = Promise.all(claimed.map((claim) => this.start(claim)))
        .then(
          (outcomes) => {
            const started = outcomes.filter((o) => o.ok).length;
            this.logger.log(`pickup cycle: ${started} started, ${outcomes.length - started} failed`);
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
      for (const outcome of outcomes) (outcome.ok ? result.started : result.failed).push(outcome.job);
      // a failed start frees its net: claim again so that the next job does not wait for a tick
      if (outcomes.every((o) => o.ok)) break;
    }
    if (result.started.length + result.failed.length > 0) {
      this.logger.log(`pickup cycle: ${result.started.length} started, ${result.failed.length} failed`);
    }
    return result;
  }

  private followUp(): void {
    if (this.followUpTimer || this.stopped) return;
    this.followUpTimer = setTimeout(() => {
      this.followUpTimer = null;
      this.trigger('fast');
    }, this.config.pickupFollowerDelayMs);
  }

  private async claim(scope: ClaimScope = null): Promise<Claim[]> {
    const claimed = await this.claims.claimBatch(scope);
    this.view.claimed(
      claimed.map((c) => c.schedulerId),
      claimed.map((c) => c.job.id),
    );
    return claimed;
  }

  private async start(claim: Claim): Promise<{ ok: boolean; job: JobRow }> {
    try {
      return { ok: true, job: await this.training.prepareAndStartTraining(claim, claim.trustIds) };
    } catch {
      return { ok: false, job: (await this.training.currentJob(claim.job.id)) ?? claim.job };
    }
  }
}
