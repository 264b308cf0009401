import type { EntityManager } from '@mikro-orm/postgresql';
import type { ColumnList } from '../../../database/columns.js';
import { queryOne, sql } from '../../../database/sql.js';
import { leaseInterval, NET, NOT_DRAINED, PICKUP_PAUSED } from './fragments.js';
import { lifecycleStatement, NetState } from './transitions.js';

export const CLAIM_FREE_NET = lifecycleStatement('claimFreeNet', { net: [[NetState.AVAILABLE, NetState.CLAIMED]] });

/** `check_for_available_net`: one AVAILABLE net (not drained) → BUSY, held by a lease until a job is claimed for it. */
export async function claimFreeNet<Row>(
  em: EntityManager,
  leaseMs: number,
  returning: ColumnList<Row>,
): Promise<Row | undefined> {
  return queryOne<Row>(
    em,
    sql`update scheduler s set status = ${NET.BUSY}, lease_until = now() + ${leaseInterval(leaseMs)}, updated_at = now()
        where s.id = (select id from scheduler where status = ${NET.AVAILABLE} and ${NOT_DRAINED} and not ${PICKUP_PAUSED}
                      order by updated_at, id limit 1 for update skip locked)
        returning ${returning} ${CLAIM_FREE_NET.tag}`,
  );
}
