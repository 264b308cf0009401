import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { PickupSignal } from '../../../common/pickup-signal.js';
import type { NetRef } from '../../../fl-backends/net-client.js';
import { MetricsService } from '../../../observability/metrics.service.js';
import type { Claim } from '../../jobs/lifecycle/claim.js';
import { holdNetForSweep } from '../../jobs/lifecycle/hold-net-for-sweep.js';
import { NetSweeper } from '../net-state/net-sweeper.service.js';
import { recordFailedStart, type FailedStart, type RecordedFailure } from '../../jobs/lifecycle/record-failed-start.js';
import { classifyStartError } from './start-outcome.js';

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
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Records a start that did not go through (`recordFailedStart`: the
   * attempt, the job back in the queue with a backoff or removed, the net
   * freed or held) in one statement. Before submit_job the net is free at
   * once. After it (`submitted`, the answer failed: a run may exist) the net
   * is held and swept at once: the runs the hub does not own are aborted and
   * the net freed in this cycle; only a net the sweep cannot reach stays
   * held, for a later sweep.
   */
  async failStart(
    claim: Claim,
    error: unknown,
    submitted: boolean,
    net: NetRef | undefined,
  ): Promise<RecordedFailure | undefined> {
    const failure = classifyStartError(error);
    try {
      const recorded = await recordFailedStart(
        this.em.fork(),
        this.config,
        { jobId: claim.job.id, claimToken: claim.claimToken, netId: claim.job.netId },
        failure,
        submitted,
      );
      this.report(claim, net, failure, recorded);
      if (!submitted) {
        if (recorded) this.pickup.changed();
        return recorded;
      }
      // a completion overtook this start: the job stays ended as reported, its net now waits for the sweep
      if (!recorded) await this.holdNetOfEndedStart(claim);
      if (net) await this.sweeper.sweep(claim.schedulerId, net);
      return recorded;
    } catch (cleanupError) {
      // The claim's lease still expires, and recovery takes over.
      this.logger.error(`could not record the failed start of job ${claim.job.id}: ${String(cleanupError)}`);
      return undefined;
    }
  }

  /** One log line per attempt (job, net, outcome, what follows), and the counters. */
  private report(claim: Claim, net: NetRef | undefined, failure: FailedStart, recorded: RecordedFailure | undefined): void {
    const where = `job ${claim.job.id} on net "${net?.name ?? claim.job.netId ?? '?'}"`;
    if (!recorded) {
      this.logger.warn(`start attempt: ${where}: ${failure.outcome} (${failure.detail}); the job had already left this claim`);
      return;
    }
    this.metrics.startAttempts.inc({ outcome: failure.outcome });
    if (recorded.status === 'DELETED') {
      this.metrics.jobEnds.inc({ reason: recorded.endReason ?? 'unknown' });
      this.logger.warn(`start attempt: ${where}: ${failure.outcome} (${failure.detail}); removed (${recorded.endReason})`);
    } else {
      const at = recorded.retryAt ? new Date(recorded.retryAt).toISOString() : 'now';
      this.logger.warn(
        `start attempt: ${where}: ${failure.outcome} (${failure.detail}); back in the queue, tried again at ${at}`,
      );
    }
    if (failure.netFailed && this.config.maxStartAttempts > 1) this.metrics.netBackoffs.inc({ event: 'held' });
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
