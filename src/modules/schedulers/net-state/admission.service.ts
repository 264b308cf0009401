import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { query, queryOne, sql } from '../../../database/sql.js';
import { NetClient } from '../../../fl-backends/net-client.js';
import { MetricsService } from '../../../observability/metrics.service.js';
import { backoffInterval } from '../../jobs/admission.sql.js';
import { expireWaitingJobs } from '../../jobs/lifecycle/expire-waiting-jobs.js';

/**
 * The admission's waits, kept in the database so that any instance acts on
 * them: jobs waiting for offline clients (removed after
 * ADMISSION_MAX_WAIT_MS), nets held back after a failed call (probed when
 * their backoff ends), and when the next of these falls due (the pickup wakes then).
 */
@Injectable()
export class AdmissionService {
  private readonly logger = new Logger('Admission');

  constructor(
    private readonly em: EntityManager,
    private readonly nets: NetClient,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * In one statement: a queued job that may start but whose clients are
   * offline on every free net starts waiting for them (`offline_since`); a
   * job that has waited for its clients ADMISSION_MAX_WAIT_MS — offline on
   * every free net, or in its backoff after its start found them offline —
   * is removed (DELETED, ADMISSION_TIMEOUT, model ERROR).
   */
  async expireWaitingJobs(): Promise<number> {
    if (this.config.admissionMaxWaitMs === 0) return 0; // nothing waits for clients: the start removes the job
    const removed = await expireWaitingJobs(this.em.fork(), this.config);
    if (removed.length > 0) {
      this.metrics.jobEnds.inc({ reason: 'ADMISSION_TIMEOUT' }, removed.length);
      this.logger.warn(
        `removed ${removed.length} job(s) whose clients stayed offline longer than ADMISSION_MAX_WAIT_MS: ${removed.map((r) => r.id).join(', ')}`,
      );
    }
    return removed.length;
  }

  /**
   * Probes each held-back net whose backoff is over (`check_server_status`);
   * taking a probe pushes the net's `retry_at` on (a compare-and-set), so one
   * instance probes it. An answer brings the net back; a failure doubles its
   * backoff. Returns how many nets came back.
   */
  async probeDueNets(): Promise<number> {
    const due = await query<{ id: string; name: string; endpoint: string; failedCalls: number }>(
      this.em.fork(),
      sql`update net set retry_at = now() + ${backoffInterval(this.config, 'failed_calls')}
          where failed_calls > 0 and retry_at <= now()
          returning id, name, endpoint, failed_calls as "failedCalls"`,
    );
    const back = await Promise.all(
      due.map(async (net) => {
        try {
          await this.nets.checkServerStatus(net);
        } catch (error) {
          await query(
            this.em.fork(),
            sql`update net set failed_calls = failed_calls + 1, retry_at = now() + ${backoffInterval(this.config, 'failed_calls')}
                where id = ${net.id} and failed_calls > 0`,
          );
          this.metrics.netBackoffs.inc({ event: 'probe_failed' });
          this.logger.warn(`net "${net.name}" still fails (${String(error)}); probed again after its backoff`);
          return false;
        }
        const [row] = await query(
          this.em.fork(),
          sql`update net set failed_calls = 0, retry_at = null where id = ${net.id} and failed_calls > 0 returning id`,
        );
        if (row) {
          this.metrics.netBackoffs.inc({ event: 'probe_ok' });
          this.logger.log(`net "${net.name}" answers again (check_server_status): it takes jobs`);
        }
        return row !== undefined;
      }),
    );
    return back.filter(Boolean).length;
  }

  /** When the next wait falls due: a job's backoff, a net's probe, a waiting job's removal (null: none). */
  async nextWakeAt(): Promise<Date | null> {
    const row = await queryOne<{ at: Date | null }>(
      this.em.fork(),
      sql`select least(
            (select min(retry_at) from job where status = 'QUEUED' and retry_at > now()),
            -- a probe that is overdue (its cycle failed, the database was away) is due now: the probe pushes it on
            (select min(greatest(retry_at, now())) from net where failed_calls > 0),
            (select min(offline_since) + ${this.config.admissionMaxWaitMs} * interval '1 millisecond'
             from job where status = 'QUEUED' and offline_since is not null and ${this.config.admissionMaxWaitMs}::bigint > 0
               and offline_since + ${this.config.admissionMaxWaitMs} * interval '1 millisecond' > now())
          ) as at`,
    );
    return row?.at ? new Date(row.at) : null;
  }
}
