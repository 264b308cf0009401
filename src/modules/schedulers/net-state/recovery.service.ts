import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { recoverExpiredLeases, type RecoveryResult } from '../../jobs/lifecycle/recover-expired-leases.js';
import { confirmGraceMs, RECONNECT_GRACE_MS } from './start-lease.js';

export type { RecoveryResult };

/**
 * Lease recovery, by the database clock. A BUSY net whose lease expired
 * without a confirmed start is recovered under this rule:
 *  - the unconfirmed start counts as a failed one (an attempt NET_ERROR,
 *    recorded once per claim): its job goes back to the queue (same place,
 *    with a backoff) — or, after MAX_START_ATTEMPTS failed starts, is removed
 *    (DELETED, START_FAILED) and its model set to ERROR;
 *  - the net becomes AVAILABLE, unless the start had reached `submit_job`
 *    (a run may exist on the net): then it is held for a sweep that aborts
 *    orphan runs before the net is handed out again;
 *  - but a start that reached `submit_job` is left to the instance that
 *    claimed it while that instance has a session in the database (it may
 *    yet confirm the run: requeueing the job could run it twice), for at most
 *    the confirmation grace past the lease (`confirmGraceMs`); after a
 *    database restart, instances get RECONNECT_GRACE_MS to show up again;
 *  - a net claimed alone (`claimAvailableNet`) with no job is simply freed;
 *  - a net still left to a start whose job a completion report already ended
 *    (SUBMITTING, job COMPLETED) is held for a sweep the same way; the job stays as reported.
 */
@Injectable()
export class RecoveryService {
  private readonly logger = new Logger('Recovery');

  constructor(
    private readonly em: EntityManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async recoverExpiredLeases(): Promise<RecoveryResult> {
    const result = await recoverExpiredLeases(this.em.fork(), {
      maxStartAttempts: this.config.maxStartAttempts,
      leaseMs: this.config.netLeaseMs,
      confirmGraceMs: confirmGraceMs(this.config.netLeaseMs),
      reconnectGraceMs: RECONNECT_GRACE_MS,
      backoff: this.config,
    });
    const counts = result ?? { requeued: 0, retired: 0, freed: 0, heldForSweep: 0 };
    if (counts.requeued + counts.retired + counts.freed + counts.heldForSweep > 0) {
      this.logger.warn(
        `recovered expired leases: ${counts.requeued} job(s) requeued, ${counts.retired} removed after too many attempts, ` +
          `${counts.freed} net(s) freed, ${counts.heldForSweep} held for a sweep`,
      );
    }
    return counts;
  }
}
