import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { ProjectScope } from '../../common/auth/scopes.js';
import { PickupSignal } from '../../common/pickup-signal.js';
import { DomainError, notFound } from '../../common/errors.js';
import { normalizeName } from '../../common/validation.js';
import { columns, type RowFor, type RowOf } from '../../database/columns.js';
import { query, queryOne, sql } from '../../database/sql.js';
import type { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import { JOB } from '../jobs/lifecycle/fragments.js';
import { modelInScope } from '../models/project-scope.sql.js';
import { clientsOfSlots, type SlotClientRow } from './net-client.sql.js';
import { NetEntity } from './net.entity.js';
import type { NetModel } from './net.model.js';

/** Columns of `net n` in the shape of NetModel. */
export const NET_COLUMNS = columns(NetEntity, 'n', ['id', 'name', 'endpoint', 'flBackend', 'drained']);

type NetRow = RowFor<NetModel, RowOf<typeof NET_COLUMNS>>;

@Injectable()
export class NetsService {
  constructor(
    private readonly em: EntityManager,
    private readonly pickup: PickupSignal,
  ) {}

  /** `get_nets`: every net, by name; NOT_FOUND when none is registered. */
  async getNets(): Promise<NetModel[]> {
    const nets = await query<NetRow>(this.em.fork(), sql`select ${NET_COLUMNS} from net n order by n.name`);
    if (nets.length === 0) throw new DomainError('NOT_FOUND', 'no FL net is registered (set NET_ENDPOINTS)');
    return nets;
  }

  /** `get_net_by_name`: the net or null. */
  async getNetByName(name: string): Promise<NetModel | null> {
    const lookup = normalizeName(name);
    return (await queryOne<NetRow>(this.em.fork(), sql`select ${NET_COLUMNS} from net n where n.name = ${lookup}`)) ?? null;
  }

  /**
   * `get_net_by_model_id`: the net the model's current (most recently started)
   * running job is on. NOT_FOUND alike for a model outside the scope: no leak.
   */
  async getNetByModelId(modelId: string, scope: ProjectScope): Promise<NetModel> {
    const net = await queryOne<NetRow>(
      this.em.fork(),
      sql`select ${NET_COLUMNS} from job j join net n on n.id = j.net_id
          where j.model_id = ${modelId} and j.status = ${JOB.IN_PROGRESS} and ${modelInScope(scope, 'j.model_id')}
          order by j.started_at desc, j.seq desc limit 1`,
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

  /** `drainNet`: the net finishes its run and takes no new job. */
  async drainNet(netId: string): Promise<NetModel> {
    return this.setDrained(netId, true);
  }

  /**
   * `resumeNet`: the net takes jobs again at once. The database announces the
   * change (trigger on `net.drained`) to whichever instance leads the dispatch.
   */
  async resumeNet(netId: string): Promise<NetModel> {
    const net = await this.setDrained(netId, false);
    this.pickup.changed();
    return net;
  }

  private async setDrained(netId: string, drained: boolean): Promise<NetModel> {
    const net = await queryOne<NetRow>(
      this.em.fork(),
      sql`update net n set drained = ${drained} where n.id = ${netId} returning ${NET_COLUMNS}`,
    );
    if (!net) throw notFound('Net', netId);
    return net;
  }

  /** The clients of many kit slots on every net (GraphQL batching). */
  async clientsBySlotNames(slotNames: readonly string[]): Promise<SlotClientRow[]> {
    return clientsOfSlots(this.em.fork(), slotNames);
  }

  async netsByIds(ids: readonly string[]): Promise<NetModel[]> {
    return query<NetRow>(this.em.fork(), sql`select ${NET_COLUMNS} from net n where n.id = any(${ids}::uuid[])`);
  }
}
