import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { conflict } from '../../common/errors.js';
import { normalizeName } from '../../common/validation.js';
import { columns, expressions, joinColumns, type RowFor, type RowOf } from '../../database/columns.js';
import { query, queryOne, sql } from '../../database/sql.js';
import { KitSlotEntity } from './kit-slot.entity.js';
import { TrustEntity } from './trust.entity.js';
import { holdEndsText, trustHeldText } from './trust-hold.sql.js';
import type { TrustModel, TrustSlotNameModel } from './trust.model.js';

/** A trust `t` left-joined to its kit slot `k`, in the shape of TrustModel (its hold as it stands now). */
export const TRUST_COLUMNS = joinColumns(
  joinColumns(columns(TrustEntity, 't', ['id', 'name', 'maxConcurrentJobs']), columns(KitSlotEntity, 'k', ['slotName'])),
  expressions<{ onHold: boolean; holdUntil: Date | null }>({ onHold: trustHeldText('t'), holdUntil: holdEndsText('t') }),
);

/** a trust left-joined to its kit slot: no slot, no name */
export type TrustRow = RowFor<TrustModel, Omit<RowOf<typeof TRUST_COLUMNS>, 'slotName'> & { slotName: string | null }>;

@Injectable()
export class TrustsService {
  private readonly logger = new Logger('Trusts');

  constructor(private readonly em: EntityManager) {}

  /** A new trust, bound to the lowest free kit slot (none left: the trust has no slot, and cannot train yet). */
  async createTrust(input: { name: string }): Promise<TrustModel> {
    const name = normalizeName(input.name);
    return this.em.fork().transactional(async (em) => {
      const created = await queryOne<{ id: string }>(
        em,
        sql`insert into trust (name) values (${name}) on conflict (name) do nothing returning id`,
      );
      if (!created) throw conflict(`a trust named "${name}" already exists`, { field: 'name' });
      const slot = await queryOne<{ slotName: string }>(
        em,
        sql`update kit_slot set assigned_trust_id = ${created.id}, assigned_at = now()
            where slot_name = (select slot_name from kit_slot where assigned_trust_id is null
                               order by slot_number limit 1 for update skip locked)
            returning slot_name as "slotName"`,
      );
      if (!slot) this.logger.warn(`trust "${name}" created without a kit slot: none is free (FL_KIT_SLOTS)`);
      return { id: created.id, name, slotName: slot?.slotName ?? null, maxConcurrentJobs: null, onHold: false, holdUntil: null };
    });
  }

  async listTrusts(): Promise<TrustModel[]> {
    return query<TrustRow>(
      this.em.fork(),
      sql`select ${TRUST_COLUMNS} from trust t left join kit_slot k on k.assigned_trust_id = t.id order by t.name`,
    );
  }

  /**
   * `get_slot_names_by_trust_ids`: trust id → kit slot name, the FL identity.
   * Trusts without a slot are absent. Empty in → empty out, without a query.
   */
  async getSlotNamesByTrustIds(trustIds: readonly string[]): Promise<TrustSlotNameModel[]> {
    if (trustIds.length === 0) return [];
    return query<TrustSlotNameModel>(
      this.em.fork(),
      sql`select k.assigned_trust_id as "trustId", k.slot_name as "slotName"
          from unnest(${trustIds}::uuid[]) with ordinality as t(id, ord)
          join kit_slot k on k.assigned_trust_id = t.id order by t.ord`,
    );
  }

  /** Trusts of many jobs at once (GraphQL batching). */
  async trustsByJobIds(jobIds: readonly string[]): Promise<Array<TrustModel & { jobId: string }>> {
    return query<TrustRow & { jobId: string }>(
      this.em.fork(),
      sql`select jt.job_id as "jobId", ${TRUST_COLUMNS} from job_trust jt join trust t on t.id = jt.trust_id
          left join kit_slot k on k.assigned_trust_id = t.id where jt.job_id = any(${jobIds}::uuid[]) order by t.name`,
    );
  }

  /** Approved trusts of many models at once (GraphQL batching). */
  async approvedTrustsByModelIds(modelIds: readonly string[]): Promise<Array<TrustModel & { modelId: string }>> {
    return query<TrustRow & { modelId: string }>(
      this.em.fork(),
      sql`select a.model_id as "modelId", ${TRUST_COLUMNS} from model_approved_trust a join trust t on t.id = a.trust_id
          left join kit_slot k on k.assigned_trust_id = t.id where a.model_id = any(${modelIds}::uuid[]) order by t.name`,
    );
  }
}
