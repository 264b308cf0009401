import { Injectable, Logger } from '@nestjs/common';
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

/** A guard against a cycle that keeps claiming because every start fails fast. */
const MAX_ROUNDS_PER_CYCLE = 20;

/**
 * One pickup cycle: recover expired leases, claim every free net with the
 * oldest valid jobs (one transaction), then start each claimed job on its net
 * (HTTP, after the commit). A cycle never overlaps itself on this instance;
 * other instances may run theirs at the same time — the claim keeps them apart.
 */
@Injectable()
export class PickupService {
  private readonly logger = new Logger('Pickup');
  private current: Promise<PickupCycleResult> | null = null;
  private rerun: CycleKind | null = null;
  private stopped = false;

  constructor(
    private readonly claims: ClaimService,
    private readonly recovery: RecoveryService,
    private readonly training: TrainingService,
  ) {}

  /** Runs a full cycle now; if one is running, waits for it and then runs a fresh one. */
  async runPickupCycle(): Promise<PickupCycleResult> {
    while (this.current) await this.current.catch(() => undefined);
    return this.startCycle('full');
  }

  /** Asks for a cycle soon: starts one, or marks the running one to go again when it ends. */
  trigger(kind: CycleKind): void {
    if (this.stopped) return;
    if (this.current) {
      this.rerun = this.rerun === 'full' ? 'full' : kind;
      return;
    }
    this.startCycle(kind).catch((error: unknown) => this.logger.error(`pickup cycle failed: ${String(error)}`));
  }

  /** Shutdown: no new cycle from now on (a pending re-run is dropped); `idle()` then waits for the one in flight. */
  stop(): void {
    this.stopped = true;
    this.rerun = null;
  }

  /** Resolves when no cycle is running on this instance (used at shutdown). */
  async idle(): Promise<void> {
    while (this.current) await this.current.catch(() => undefined);
  }

  private startCycle(kind: CycleKind): Promise<PickupCycleResult> {
    const cycle = this.cycle(kind).finally(() => {
      this.current = null;
      const rerun = this.rerun;
      this.rerun = null;
      if (rerun) this.trigger(rerun);
    });
    this.current = cycle;
    return cycle;
  }

  private async cycle(kind: CycleKind): Promise<PickupCycleResult> {
    const result: PickupCycleResult = { started: [], failed: [] };
    if (kind === 'full') {
      await this.recovery.recoverExpiredLeases();
      await this.claims.retireInvalidQueuedJobs();
    }
    for (let round = 0; round < MAX_ROUNDS_PER_CYCLE; round++) {
      const claimed = await this.claims.claimBatch();
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

  private async start(claim: Claim): Promise<{ ok: boolean; job: JobRow }> {
    try {
      return { ok: true, job: await this.training.prepareAndStartTraining(claim, claim.trustIds) };
    } catch {
      return { ok: false, job: (await this.training.currentJob(claim.job.id)) ?? claim.job };
    }
  }
}
