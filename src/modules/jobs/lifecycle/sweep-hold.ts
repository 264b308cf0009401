import type { EntityManager } from '@mikro-orm/postgresql';
import { query, queryOne, sql } from '../../../database/sql.js';
import { JOB, leaseInterval, NET } from './fragments.js';
import { lifecycleStatement, NetState } from './transitions.js';

const { SWEEP, AVAILABLE } = NetState;

export const TAKE_SWEEP_HOLD = lifecycleStatement('takeSweepHold', { net: [[SWEEP, SWEEP]] });
export const RENEW_SWEEP_HOLD = lifecycleStatement('renewSweepHold', { net: [[SWEEP, SWEEP]] });
export const FREE_SWEPT_NET = lifecycleStatement('freeSweptNet', { net: [[SWEEP, AVAILABLE]] });

/** A sweep's hold on a net: its token, and the runs the hub's jobs own there (they are not aborted). */
export interface SweepHold {
  token: string;
  owned: string[];
}

/** The sweep takes the hold of a net held for one over: a fresh lease, whose time is its token. */
export async function takeSweepHold(em: EntityManager, schedulerId: string, leaseMs: number): Promise<SweepHold | undefined> {
  return queryOne<SweepHold>(
    em,
    sql`update scheduler s set lease_until = clock_timestamp() + ${leaseInterval(leaseMs)}, updated_at = now()
        where s.id = ${schedulerId} and s.sweep_pending and s.job_id is null
        returning s.lease_until::text as token,
          array(select backend_job_id from job j where j.net_id = s.net_id and j.status = ${JOB.IN_PROGRESS}
                and j.backend_job_id is not null) as owned ${TAKE_SWEEP_HOLD.tag}`,
  );
}

/** A sweep that could not finish keeps the net held (a later sweep retries), if its hold is still its own. */
export async function renewSweepHold(em: EntityManager, schedulerId: string, token: string, leaseMs: number): Promise<void> {
  await query(
    em,
    sql`update scheduler set lease_until = now() + ${leaseInterval(leaseMs)}, updated_at = now()
        where id = ${schedulerId} and sweep_pending and job_id is null and lease_until = ${token}::timestamptz ${RENEW_SWEEP_HOLD.tag}`,
  );
}

/** The swept net → AVAILABLE, if the hold is still this sweep's; true when it was freed. */
export async function freeSweptNet(em: EntityManager, schedulerId: string, token: string): Promise<boolean> {
  const freed = await query(
    em,
    sql`update scheduler set status = ${NET.AVAILABLE}, lease_until = null, sweep_pending = false, updated_at = now()
        where id = ${schedulerId} and sweep_pending and job_id is null and lease_until = ${token}::timestamptz
        returning id ${FREE_SWEPT_NET.tag}`,
  );
  return freed.length > 0;
}
