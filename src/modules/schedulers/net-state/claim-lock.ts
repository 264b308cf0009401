import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../../database/sql.js';

/**
 * The claim lock: a transaction-scoped PostgreSQL advisory lock that every
 * claim takes before its statement, and every change of a limit or a hold
 * before its write. Capacity and fair share are counted from the jobs running
 * now, so two claims at once (two instances) would each count without the
 * other's jobs; under the lock each claim's statement begins after the last
 * one committed and counts them all. Claims stay short (one statement, as a rule
 * in one round trip with the lock: ClaimService.claimBatch), so the instances
 * take turns within milliseconds.
 */
export const CLAIM_LOCK_KEY = 7311001;

/** Takes the claim lock for the rest of `em`'s transaction (call inside one). */
export async function lockClaims(em: EntityManager): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CLAIM_LOCK_KEY})`.execute(em.getKysely());
}

/**
 * The claim's settings for the rest of its transaction (see takeClaimTurn), and `fl.claim_turn` 'true': the
 * cycle's claim statement takes nets only while it is set (`FREE_NETS`), that is, on a turn that was taken.
 */
const CLAIM_TURN_SETTINGS = [
  `set_config('enable_bitmapscan', 'off', true)`,
  `set_config('random_page_cost', '1', true)`,
  `set_config('plan_cache_mode', 'force_generic_plan', true)`,
  `set_config('fl.claim_turn', 'true', true)`,
].join(', ');

/**
 * A claim's turn: the claim lock, and for the rest of the transaction a
 * planner told to follow the claim's indexes. The claim reads each project's
 * queue one priority class at a time, oldest first, and stops at the first
 * jobs that pass its checks; left to itself the planner expects the checks to
 * pass at once and reads the whole class first (a bitmap scan and a sort), or
 * walks the whole queue in age order for each class (the queue's own index,
 * whose rows lie in heap order), which costs the claim the length of the
 * queue instead of the number of projects. Random reads cost about as much as
 * sequential ones here: the queue is in memory. And the claim's statement
 * (a prepared one) runs on its generic plan, made once per connection: its
 * custom plan cost more to make than the claim to run, and it changes
 * nothing between claims (its only parameters are the instance and the lease).
 */
export async function takeClaimTurn(em: EntityManager): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CLAIM_LOCK_KEY}), ${sql.raw(CLAIM_TURN_SETTINGS)}`.execute(em.getKysely());
}

/**
 * A claim turn if it is free now, as the prelude of the one-trip claim (ClaimService.claimBatch): one row, `turn`
 * true when the claim lock was taken (with takeClaimTurn's settings), false when another claim holds it —
 * then `fl.claim_turn` stays unset and the claim statement after it takes nothing. On one line, as the whole
 * one-trip message is (one line in PostgreSQL's statement log and in pg_stat_activity).
 */
export const TRY_CLAIM_TURN =
  `select t.turn, case when t.turn then concat_ws(',', ${CLAIM_TURN_SETTINGS}) end as settings ` +
  `from (select pg_try_advisory_xact_lock(${CLAIM_LOCK_KEY}) as turn) t`;
