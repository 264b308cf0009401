import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { PickupSignal } from '../../../common/pickup-signal.js';
import type { NetRef } from '../../../fl-backends/net-client.js';
import type { Claim } from '../../jobs/lifecycle/claim.js';
import { endRuns } from '../../jobs/lifecycle/end-runs.js';
import { holdNetForSweep } from '../../jobs/lifecycle/hold-net-for-sweep.js';
import { JobStatus } from '../../jobs/lifecycle/states.js';
import { ModelStatus } from '../../models/model-status.js';
import { NetSweeper } from '../net-state/net-sweeper.service.js';

/**
 * What a start that did not go through leaves behind, in one place: the job
 * and its model, and the net — freed at once, or swept at once when a run
 * may exist on it.
 */
@Injectable()
export class StartFailureService {
  private readonly logger = new Logger('Training');

  constructor(
    private readonly em: EntityManager,
    private readonly sweeper: NetSweeper,
    private readonly pickup: PickupSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The job is removed (DELETED) and the model goes to ERROR. Before
   * submit_job the net is freed with it. After it (`submitted`, the answer
   * failed: a run may exist) the net is held and swept at once: the runs the
   * hub does not own are aborted and the net freed in this cycle; only a net
   * the sweep cannot reach stays held, for a later sweep.
   */
  async failStart(claim: Claim, error: unknown, submitted: boolean, net: NetRef | undefined): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`start of job ${claim.job.id} failed: ${reason}`);
    try {
      const ended = await endRuns(
        this.em.fork(),
        { jobId: claim.job.id, claimToken: claim.claimToken },
        JobStatus.DELETED,
        ModelStatus.ERROR,
        submitted ? { leaseMs: this.config.netLeaseMs } : undefined,
      );
      if (!submitted) {
        if (ended.length > 0) this.pickup.changed();
        return;
      }
      // a completion overtook this start: the job stays ended as reported, its net now waits for the sweep
      if (ended.length === 0) await this.holdNetOfEndedStart(claim);
      if (net) await this.sweeper.sweep(claim.schedulerId, net);
    } catch (cleanupError) {
      // The claim's lease still expires, and recovery takes over.
      this.logger.error(`could not record the failed start of job ${claim.job.id}: ${String(cleanupError)}`);
    }
  }

  /** Sweeps (and frees) a net that a start's confirmation has just handed over for a sweep. */
  async sweepAfterStart(claim: Claim, net: NetRef): Promise<void> {
    await this.sweeper.sweep(claim.schedulerId, net).catch((error: unknown) => {
      this.logger.warn(`sweep of "${net.name}" after job ${claim.job.id} ended: ${String(error)}`);
    });
  }

  /** A net still holding this claim's job, which ended while its start was on the way, is held for a sweep. */
  private async holdNetOfEndedStart(claim: Claim): Promise<void> {
    const { schedulerId, claimToken } = claim;
    await holdNetForSweep(this.em.fork(), { schedulerId, jobId: claim.job.id, claimToken }, this.config.netLeaseMs);
  }
}
