import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { CoalescedRead } from '../../../common/coalesced-read.js';
import { DomainError } from '../../../common/errors.js';
import { query, sql } from '../../../database/sql.js';
import type { JobModel } from '../../jobs/job.model.js';
import { JOB_COLUMNS } from '../../jobs/job.sql.js';
import type { NetModel } from '../../nets/net.model.js';
import { NET_COLUMNS } from '../../nets/nets.service.js';
import type { SchedulerModel } from './scheduler.model.js';
import { SCHEDULER_COLUMNS } from './scheduler.sql.js';

export type NetWithScheduler = { net: NetModel; scheduler: SchedulerModel; job: JobModel | null };

/** What each net is doing: its scheduler (AVAILABLE/BUSY) and the job it holds. */
@Injectable()
export class NetStateService {
  /** the pool's state, read once for all the requests of one event-loop turn (dashboards poll it) */
  private readonly pool = new CoalescedRead(() => this.readNetsWithSchedulers());

  constructor(private readonly em: EntityManager) {}

  /**
   * Every net with its scheduler and the scheduler's job, read in ONE
   * statement (the GraphQL `nets` query shows all three); NOT_FOUND when no
   * net is registered. Concurrent callers share one read that began after
   * each of them asked (CoalescedRead).
   */
  getNetsWithSchedulers(): Promise<NetWithScheduler[]> {
    return this.pool.read();
  }

  async listSchedulers(): Promise<SchedulerModel[]> {
    return query<SchedulerModel>(
      this.em.fork(),
      sql`select ${SCHEDULER_COLUMNS} from scheduler s join net n on n.id = s.net_id order by n.name`,
    );
  }

  async schedulersByNetIds(netIds: readonly string[]): Promise<SchedulerModel[]> {
    return query<SchedulerModel>(
      this.em.fork(),
      sql`select ${SCHEDULER_COLUMNS} from scheduler s where s.net_id = any(${netIds}::uuid[])`,
    );
  }

  private async readNetsWithSchedulers(): Promise<NetWithScheduler[]> {
    const rows = await query<NetModel & { scheduler: SchedulerModel; job: JobModel | null }>(
      this.em.fork(),
      sql`select ${NET_COLUMNS},
            json_build_object('id', s.id, 'status', s.status, 'netId', s.net_id, 'jobId', s.job_id,
                              'leaseUntil', s.lease_until, 'updatedAt', s.updated_at) as scheduler,
            (select to_json(jr) from (select ${JOB_COLUMNS} from job j where j.id = s.job_id) jr) as job
          from net n join scheduler s on s.net_id = n.id order by n.name`,
    );
    if (rows.length === 0) throw new DomainError('NOT_FOUND', 'no FL net is registered (set NET_ENDPOINTS)');
    return rows.map(({ scheduler, job, ...net }) => ({ net, scheduler, job }));
  }
}
