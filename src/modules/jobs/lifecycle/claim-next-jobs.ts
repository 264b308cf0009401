import type { EntityManager } from '@mikro-orm/postgresql';
import type { RawBuilder } from 'kysely';
import { query, sql } from '../../../database/sql.js';
import { assignPairs, toClaim, type ClaimOrNoneRow, type ClaimRow } from './claim-pairs.js';
import type { Claim } from './claim.js';
import { FREE_NET_TEXT } from '../admission.sql.js';
import { candidatesText, FRONT_COMPLETE, type FairReach } from './claim-candidates.sql.js';
import { GATES_TEXT, type OrderConfig } from '../dispatch-order.sql.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

export const CLAIM_NEXT_JOBS = lifecycleStatement('claimNextJobs', {
  job: [[JobState.QUEUED, JobState.CLAIMED]],
  net: [[NetState.AVAILABLE, NetState.HELD]],
});

/** The admission's predicates the claim uses (admissionPredicates). */
export type ClaimAdmission = { anyClientsReady: string; jobClientsOnNet: string };

/**
 * The pairing, as the head of a statement ending in `pair (job_id,
 * scheduler_id, net_id)`: the free nets `nets` (locked by the caller's
 * statement; each with `admits_any`: whether any job's clients pass there,
 * asked once per net), the gates, the candidates in dispatch order, and the
 * walk that gives each candidate in turn the first free net (longest free
 * first) where its clients are online and no earlier job went — unless the
 * jobs taken before it in this walk bring one of its trusts or its project to
 * its cap: then it is passed by and the next one tried.
 */
function pairing(nets: RawBuilder<unknown>, admission: ClaimAdmission, order: OrderConfig, reach: FairReach) {
  const fits = `(f.admits_any or ${admission.jobClientsOnNet})`;
  const runnable = `exists (select 1 from free f join net n on n.id = f.net_id where ${fits})`;
  return sql`with recursive free as materialized (
          select f.id, f.net_id, row_number() over (order by f.updated_at, f.id) as ord, ${sql.raw(admission.anyClientsReady)} as admits_any
          from (${nets}) f join net n on n.id = f.net_id
        ), ${sql.raw(GATES_TEXT)}, ${sql.raw(candidatesText(order, runnable, reach))},
        walk (rn, taken, trusts, projects, job_id, scheduler_id, net_id) as (
          select 0::bigint, array[]::uuid[], array[]::uuid[], array[]::uuid[], null::uuid, null::uuid, null::uuid
          union all
          select c.rn,
            case when e.scheduler_id is null then w.taken else w.taken || e.scheduler_id end,
            case when e.scheduler_id is null then w.trusts else w.trusts || ct.trusts end,
            case when e.scheduler_id is null then w.projects else w.projects || c.project_id end,
            c.id, e.scheduler_id, e.net_id
          from walk w join candidates c on c.rn = w.rn + 1
          cross join lateral (select array(select jt.trust_id from job_trust jt where jt.job_id = c.id) as trusts) ct
          left join lateral (
            select f.id as scheduler_id, f.net_id from free f join net n on n.id = f.net_id join job j on j.id = c.id
            where f.id <> all (w.taken) and ${sql.raw(fits)}
              and not exists (select 1 from project_gate pg where pg.id = c.project_id and pg.cap is not null
                              and pg.running + cardinality(array_positions(w.projects, c.project_id)) >= pg.cap)
              and not exists (select 1 from unnest(ct.trusts) as t(id) join trust_gate tg on tg.id = t.id
                              where tg.cap is not null and tg.running + cardinality(array_positions(w.trusts, t.id)) >= tg.cap)
            order by f.ord limit 1) e on true
          where cardinality(w.taken) < (select count(*) from free)
        ), pair as (
          select job_id, scheduler_id, net_id from walk where scheduler_id is not null
        )`;
}

/**
 * The cycle's claim, taken under the claim lock (see ClaimService): ONE
 * statement (`firstClaimStatement`), and a second one only when the first
 * could not tell the first jobs of the whole queue (fair, `FairReach`; with
 * `reach` 'every' the claim starts there). The free nets that take jobs
 * (not drained, no failed call waiting for its probe, pickup not paused) are
 * locked with FOR UPDATE SKIP LOCKED; the jobs that can start now come in
 * dispatch order (`candidatesText`: held trusts, trusts and projects at
 * capacity, backoffs, start times and unapproved trusts are passed by, never
 * waited behind, as are jobs whose clients are online on no free net) and
 * are paired with them (`pairing`). Each pair is set IN_PROGRESS / BUSY with
 * its job and a lease. A first statement that fell short claimed nothing; the
 * second runs in the same transaction, under the same lock, on the nets the
 * first locked.
 */
export async function claimNextJobs(
  em: EntityManager,
  claim: { instanceName: string; leaseMs: number },
  admission: ClaimAdmission,
  order: OrderConfig,
  reach: FairReach = 'front',
): Promise<Claim[]> {
  if (order.dispatchOrder === 'fair' && reach === 'every') {
    return (await query(em, claimNextJobsStatement(claim, admission, order, 'every'))).map(toClaim);
  }
  const claims = claimsOfFirstStatement(await query(em, firstClaimStatement(claim, admission, order)));
  return claims ?? claimNextJobs(em, claim, admission, order, 'every');
}

/** A row of the cycle's first claim statement: a claim, or (fair) one row that claimed nothing. */
export type FirstClaimRow = ClaimRow | ClaimOrNoneRow;

/**
 * The cycle's first claim statement: the FIFO claim, or the fair claim's
 * first try (`frontClaimStatement`). It claims only on a claim turn (the
 * claim lock taken in its transaction: `FREE_NETS`).
 */
export function firstClaimStatement(
  claim: { instanceName: string; leaseMs: number },
  admission: ClaimAdmission,
  order: OrderConfig,
): RawBuilder<FirstClaimRow> {
  return order.dispatchOrder === 'fifo'
    ? claimNextJobsStatement(claim, admission, order)
    : frontClaimStatement(claim, admission, order);
}

/**
 * The claims of the first claim statement's rows; undefined when the fair
 * claim's front fell short (it claimed nothing): ask again with reach 'every'.
 */
export function claimsOfFirstStatement(rows: readonly FirstClaimRow[]): Claim[] | undefined {
  if (rows.length > 0 && 'complete' in rows[0] && rows[0].complete === false) return undefined;
  return rows
    .filter((row): row is ClaimRow => row.id !== null)
    .map((row) => {
      const { complete: _complete, ...claimRow } = row as ClaimRow & { complete?: boolean };
      return toClaim(claimRow);
    });
}

/**
 * The free nets a claim may fill, locked: FREE_NET_TEXT, longest free first
 * — none unless this transaction took a claim turn (`fl.claim_turn`, set by
 * takeClaimTurn and by a TRY_CLAIM_TURN that got the lock), so that a claim
 * never counts running jobs without the lock that orders it after the last.
 */
const FREE_NETS = sql`select s.id, s.net_id, s.updated_at from scheduler s join net n on n.id = s.net_id
      where ${sql.raw(FREE_NET_TEXT)} and current_setting('fl.claim_turn', true) = 'true'
      order by s.updated_at, s.id
      for update of s skip locked`;

/**
 * A claim statement of `claimNextJobs` (for a measurement or a plan): fifo,
 * or fair checking every project (`every`). The fair claim's first try is
 * `frontClaimStatement`.
 */
export function claimNextJobsStatement(
  claim: { instanceName: string; leaseMs: number },
  admission: ClaimAdmission,
  order: OrderConfig,
  reach: FairReach = 'every',
): RawBuilder<ClaimRow> {
  return sql<ClaimRow>`${pairing(FREE_NETS, admission, order, reach)}, ${assignPairs(claim)} ${CLAIM_NEXT_JOBS.tag}`;
}

/**
 * The fair claim's first try (reach 'front'): its claims, or one row with no
 * job; `complete` false when the front fell short — then it claimed nothing.
 */
export function frontClaimStatement(
  claim: { instanceName: string; leaseMs: number },
  admission: ClaimAdmission,
  order: OrderConfig,
): RawBuilder<ClaimOrNoneRow> {
  const complete = `(select yes from ${FRONT_COMPLETE})`;
  return sql<ClaimOrNoneRow>`${pairing(FREE_NETS, admission, order, 'front')}, ${assignPairs(claim, complete)} ${CLAIM_NEXT_JOBS.tag}`;
}

/**
 * `check_for_queued_jobs`' choice: the job that the claim would give the
 * scheduler `schedulerId` (claimed alone, and locked by the caller) — the
 * first in dispatch order whose clients are online on its net. Asked of every
 * project at once (a step mutation, not the cycle's claim).
 */
export async function nextJobForNet(
  em: EntityManager,
  schedulerId: string,
  admission: ClaimAdmission,
  order: OrderConfig,
): Promise<string | undefined> {
  const nets = sql`select s.id, s.net_id, s.updated_at from scheduler s where s.id = ${schedulerId}::uuid`;
  const [row] = await query<{ jobId: string }>(
    em,
    sql`${pairing(nets, admission, order, 'every')} select job_id as "jobId" from pair`,
  );
  return row?.jobId;
}
