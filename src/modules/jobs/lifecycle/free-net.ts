import type { EntityManager } from '@mikro-orm/postgresql';
import type { ColumnList } from '../../../database/columns.js';
import { queryOne, sql } from '../../../database/sql.js';
import { NET } from './fragments.js';
import { lifecycleStatement, NetState } from './transitions.js';

const { AVAILABLE, CLAIMED, HELD, SWEEP } = NetState;

export const FREE_NET = lifecycleStatement('freeNet', {
  net: [
    [AVAILABLE, AVAILABLE],
    [CLAIMED, AVAILABLE],
    [HELD, AVAILABLE],
    [SWEEP, AVAILABLE],
  ],
});

/** `revert_scheduler_pickup`'s write: the net → AVAILABLE with no job, whatever held it (the caller decided it may). */
export async function freeNet<Row>(em: EntityManager, schedulerId: string, returning: ColumnList<Row>): Promise<Row | undefined> {
  return queryOne<Row>(
    em,
    sql`update scheduler s set status = ${NET.AVAILABLE}, job_id = null, lease_until = null, sweep_pending = false, updated_at = now()
        where s.id = ${schedulerId} returning ${returning} ${FREE_NET.tag}`,
  );
}
