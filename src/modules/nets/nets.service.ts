import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { CoalescedRead } from '../../common/coalesced-read.js';
import { DomainError, notFound } from '../../common/errors.js';
import { normalizeName } from '../../common/validation.js';
import { columns, type RowFor, type RowOf } from '../../database/columns.js';
import { query, queryOne, sql } from '../../database/sql.js';
import type { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import type { JobModel } from '../jobs/job.model.js';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.sql.js';
import type { SchedulerModel } from '../schedulers/scheduler.model.js';
import { SCHEDULER_COLUMNS, type SchedulerRow } from '../schedulers/scheduler.sql.js';
import { NetEntity } from './net.entity.js';
import type { NetModel } from './net.model.js';

const NET_COLUMNS = columns(NetEntity, 'n', ['id', 'name', 'endpoint', 'flBackend']);

type NetRow = RowFor<NetModel, RowOf<typeof NET_COLUMNS>>;

type NetWithScheduler = { net: NetModel; scheduler: SchedulerModel; job: JobModel | null };

@Injectable()
export class NetsService {
  /** the pool's state, read once for all the requests of one event-loop turn (dashboards poll it) */
  private readonly pool = new CoalescedRead(() => this.readNetsWithSchedulers());

  constructor(private readonly em: EntityManager) {}

  /** `get_nets`: every net, by name; NOT_FOUND when none is registered. */
  async getNets(): Promise<NetModel[]> {
    return (await this.getNetsWithSchedulers()).map(({ net }) => net);
  }

  /**
   * `getNets` with each net's scheduler and the scheduler's job, read in ONE
   * statement (the GraphQL `nets` query shows all three). Concurrent callers
   * share one read that began after each of them asked (CoalescedRead).
   */
  getNetsWithSchedulers(): Promise<NetWithScheduler[]> {
    return this.pool.read();
  }

  private async readNetsWithSchedulers(): Promise<NetWithScheduler[]> {
    const rows = await query<NetRow & { scheduler: SchedulerRow; job: JobRow | null }>(
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

  /** `get_net_by_name`: the net or null. */
  async getNetByName(name: string): Promise<NetModel | null> {
    const lookup = normalizeName(name);
    return (await queryOne<NetRow>(this.em.fork(), sql`select ${NET_COLUMNS} from net n where n.name = ${lookup}`)) ?? null;
  }

  /** `get_net_by_model_id`: the net the model's current (most recently started) running job is on. */
  async getNetByModelId(modelId: string): Promise<NetModel> {
    const net = await queryOne<NetRow>(
      this.em.fork(),
      sql`select ${NET_COLUMNS} from job j join net n on n.id = j.net_id
          where j.model_id = ${modelId} and j.status = 'IN_PROGRESS' order by j.started_at desc, j.seq desc limit 1`,
    );
    if (!net) throw notFound(`a net running model ${modelId}`);
    return net;
  }

  /**
   * `resolve_backend`: the given net's backend, else any net's (all nets run
   * one backend in single-backend mode). Always read from the database.
   */
  async resolveBackend(netId?: string | null): Promise<FlBackend> {
    const em = this.em.fork();
    if (netId) {
      const net = await queryOne<{ flBackend: FlBackend }>(
        em,
        sql`select fl_backend as "flBackend" from net where id = ${netId}`,
      );
      if (!net) throw notFound('Net', netId);
      return net.flBackend;
    }
    const any = await queryOne<{ flBackend: FlBackend }>(
      em,
      sql`select fl_backend as "flBackend" from net order by name limit 1`,
    );
    if (!any) throw new DomainError('NOT_FOUND', 'no FL net is registered, so no FL backend can be resolved (set NET_ENDPOINTS)');
    return any.flBackend;
  }

  async listSchedulers(): Promise<SchedulerModel[]> {
    return query<SchedulerRow>(
      this.em.fork(),
      sql`select ${SCHEDULER_COLUMNS} from scheduler s join net n on n.id = s.net_id order by n.name`,
    );
  }

  async netsByIds(ids: readonly string[]): Promise<NetModel[]> {
    return query<NetRow>(this.em.fork(), sql`select ${NET_COLUMNS} from net n where n.id = any(${ids}::uuid[])`);
  }

  async schedulersByNetIds(netIds: readonly string[]): Promise<SchedulerModel[]> {
    return query<SchedulerRow>(
      this.em.fork(),
      sql`select ${SCHEDULER_COLUMNS} from scheduler s where s.net_id = any(${netIds}::uuid[])`,
    );
  }
}
