import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { PickupSignal } from '../../../common/pickup-signal.js';
import { query, sql } from '../../../database/sql.js';
import { NetClient, type NetRef } from '../../../fl-backends/net-client.js';
import { freeSweptNet, renewSweepHold, takeSweepHold } from '../../jobs/lifecycle/sweep-hold.js';

/** A run on a net that the hub wants gone (its job was stopped or removed). */
export interface RunToAbort {
  net: NetRef;
  backendJobId: string;
}

/**
 * A net whose run may still be alive although the hub no longer has a job on
 * it (a stop while the net was down, a start that died mid-submit) is held
 * BUSY with `sweep_pending`; the sweep aborts whatever still runs there and
 * only then frees the net, so two runs never overlap on one net.
 */
@Injectable()
export class NetSweeper {
  private readonly logger = new Logger('NetSweeper');

  constructor(
    private readonly em: EntityManager,
    private readonly nets: NetClient,
    private readonly pickup: PickupSignal,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Best-effort abort of runs; failures are logged (the sweep retries later). */
  async abortRuns(runs: readonly RunToAbort[]): Promise<void> {
    await Promise.all(
      runs.map(async ({ net, backendJobId }) => {
        try {
          await this.nets.abortJob(net, backendJobId);
        } catch (error) {
          this.logger.warn(`could not abort run ${backendJobId} on "${net.name}": ${String(error)}`);
        }
      }),
    );
  }

  /** Sweeps every net that waits for one; returns how many were freed. */
  async sweepAll(): Promise<number> {
    const pending = await query<{ id: string; name: string; endpoint: string }>(
      this.em.fork(),
      sql`select s.id, n.name, n.endpoint from scheduler s join net n on n.id = s.net_id
          where s.sweep_pending and s.job_id is null`,
    );
    const freed = await Promise.all(pending.map((s) => this.sweep(s.id, { name: s.name, endpoint: s.endpoint })));
    return freed.filter(Boolean).length;
  }

  /**
   * Aborts every active run on a net held for a sweep that no job of the hub
   * owns, then frees the net; if the net cannot be reached it stays held (a
   * later sweep retries). The sweep first takes the hold over (a fresh lease,
   * its token): a sweep whose hold was taken over by another frees nothing,
   * and one that finds the net no longer held lists and aborts nothing — so
   * a sweep never aborts the run of a start made after the net was freed.
   */
  async sweep(schedulerId: string, net: NetRef): Promise<boolean> {
    const hold = await takeSweepHold(this.em.fork(), schedulerId, this.config.netLeaseMs);
    if (!hold) return false;
    try {
      const owned = new Set(hold.owned);
      const active = (await this.nets.listJobs(net)).filter(
        (r) => (r.status === 'PENDING' || r.status === 'RUNNING') && !owned.has(r.job_id),
      );
      for (const run of active) {
        if ((await this.nets.abortJob(net, run.job_id)) === 'aborted') {
          this.logger.warn(`aborted orphan run ${run.job_id} on "${net.name}"`);
        }
      }
    } catch (error) {
      this.logger.warn(`sweep of "${net.name}" failed, the net stays held: ${String(error)}`);
      await renewSweepHold(this.em.fork(), schedulerId, hold.token, this.config.netLeaseMs);
      return false;
    }
    const freed = await freeSweptNet(this.em.fork(), schedulerId, hold.token);
    if (freed) {
      this.logger.log(`net "${net.name}" swept and free`);
      this.pickup.changed();
    }
    return freed;
  }
}
