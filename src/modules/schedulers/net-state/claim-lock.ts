import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../../database/sql.js';

/**
 * The claim lock: a transaction-scoped PostgreSQL advisory lock that every
 * claim takes before its statement, and every change of a limit or a hold
 * before its write. Capacity and fair share are counted from the jobs running
 * now, so two claims at once (two instances) would each count without the
 * other's jobs; under the lock each claim's statement begins after the last
 * one committed and counts them all. Claims stay short (one statement), so
 * the instances take turns within milliseconds.
 */
export const CLAIM_LOCK_KEY = 7311001;

/** Takes the claim lock for the rest of `em`'s transaction (call inside one). */
export async function lockClaims(em: EntityManager): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CLAIM_LOCK_KEY})`.execute(em.getKysely());
}
