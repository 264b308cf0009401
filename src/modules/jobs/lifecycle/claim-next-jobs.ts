import type { EntityManager } from '@mikro-orm/postgresql';
import type { RawBuilder } from 'kysely';
import { query, sql } from '../../../database/sql.js';
import { assignPairs, toClaim, type ClaimOrNoneRow, type ClaimRow } from './claim-pairs.js';
import type { Claim } from './claim.js';
import { FREE_NET_TEXT, JOB_MAY_START_TEXT } from '../admission.sql.js';
import {
  effectivePriorityText,
  FAIR_KEY_TEXT,
  GATES_TEXT,
  JOB_OPEN_IN_OPEN_PROJECT_TEXT,
  JOB_OPEN_TEXT,
  PRIORITY_LANES,
  type OrderConfig,
} from '../dispatch-order.sql.js';
import { JobState, lifecycleStatement, NetState } from './transitions.js';

/** FIFO: how many queued jobs the claim looks at per free net (jobs that fit no net left over are passed by). */
const FIFO_CANDIDATES_PER_NET = 4;

/**
 * fair: how deep the claim reads the dispatch order, per free net: the first
 * (this × free nets) jobs in the order are exactly those the queue view
 * ranks first; beyond one per net they are the spares taken when the walk
 * passes a job by (a trust or the project reaches its cap within the claim,
 * or its clients fit no net left).
 */
const FAIR_DEPTH_PER_NET = 2;

/** fair: how many projects the claim checks first, per job of its depth (the rest only when these fall short). */
const FAIR_PROJECTS_PER_DEPTH = 2;

/**
 * fair: how many of each priority class's oldest jobs the claim reads (per
 * project it needs a bound of) to find the bounds of the projects that run
 * nothing; a class where these fall short is probed project by project.
 */
const BOUND_WINDOW_PER_EDGE = 4;

export const CLAIM_NEXT_JOBS = lifecycleStatement('claimNextJobs', {
  job: [[JobState.QUEUED, JobState.CLAIMED]],
  net: [[NetState.AVAILABLE, NetState.HELD]],
});

/** The nets a claim may fill: `free (id, net_id, ord)`, ord 1 = longest free. */
export type FreeNets = 'all' | { schedulerId: string };

/** The admission's predicates the claim uses (admissionPredicates). */
export type ClaimAdmission = { anyClientsReady: string; jobClientsOnNet: string };

/**
 * fair: which projects a claim checks — those whose bounds rank first
 * ('front', the claim's first try), or every project ('every': asked only when
 * the front fell short). Two statements rather than one with both ways in it:
 * PostgreSQL sets up every part of a plan on each run, also the one not taken.
 */
export type FairReach = 'front' | 'every';

/** The CTE that tells whether the front's candidates are the first of the whole queue (reach 'front'). */
const FRONT_COMPLETE = 'front_complete';

const LANES_TEXT = `(values ${PRIORITY_LANES.map((lane) => `('${lane}')`).join(', ')}) as lane(priority)`;

/**
 * One priority class of one project's queue (`pg` its project_gate row,
 * `lane.priority` the class), read by index (`job_project_queue_idx`) oldest
 * first, checked row by row only until `limit` jobs that pass `where` came
 * (the `offset 0` keeps the planner from checking the whole class before it
 * sorts it): within a project and a class the oldest job has waited longest,
 * so no other in the class ranks before it.
 */
function laneScanText(effective: string, where: string, limit: string): string {
  return `select j.id, j.seq, j.project_id, ${effective} as effective
        from (select lj.id, lj.seq, lj.project_id, lj.model_id, lj.priority, lj.created_at, lj.retry_at, lj.not_before
              from job lj where lj.project_id = pg.id and lj.priority = lane.priority and lj.status = 'QUEUED'
              order by lj.seq offset 0) j
        where ${where}
        limit ${limit}`;
}

/**
 * The fair candidates of the projects `projects` (project_gate rows), as CTEs
 * named with `p` ending in `${p}candidates (id, project_id, rn, effective,
 * fkey, seq)`: the first `depth` jobs of those projects that can start now,
 * in dispatch order.
 * 1. every project's head (its first job in its own order: effective
 *    priority, then age). With `bounded`, `projects` carries each project's
 *    bound job (`bound_id`, `bound_effective`): when it passes the checks it
 *    is the head; otherwise (and without `bounded`) the first job that can
 *    start of each of its priority classes, one index probe and its checks
 *    per class;
 * 2. each project's quota: how many of its jobs can be among the first
 *    `depth`. Its j-th job ranks after its own j jobs before it and after
 *    every other project's head that is of a higher effective priority, or
 *    of the same and a lower fair-share key than this job's ((running + j) /
 *    share): counted from the heads alone (one binary search, `width_bucket`,
 *    in the sorted keys of the heads of its priority), a count no larger than
 *    the truth, so a job left out has at least `depth` jobs before it. Most
 *    projects' quota is their head alone; only the few that can place more
 *    are read again, up to their quota (and their cap, and one job per net);
 * 3. each project's quota in its own order, each ranked by its fair-share
 *    key, and the first `depth` of them in the dispatch order.
 */
function fairCandidatesText(
  p: string,
  projects: string,
  effective: string,
  open: string,
  depth: string,
  bounded: boolean,
): string {
  const nets = '(select count(*) from free)';
  const headColumns = `${FAIR_KEY_TEXT('0')} as key0, pg.running, pg.share, pg.cap`;
  const laneHeads = (where: string) => `select h.id, h.seq, h.project_id, h.effective, ${headColumns}
      from (${projects}) pg cross join ${LANES_TEXT}
      cross join lateral (${laneScanText(effective, open, '1')}) h
      where ${where}`;
  const heads = bounded
    ? `${p}bound_heads as materialized (
      select j.id, j.seq, j.project_id, pg.bound_effective as effective, ${headColumns}
      from (${projects}) pg join job j on j.id = pg.bound_id
      where ${open}
    ), ${p}heads as materialized (
      select * from ${p}bound_heads
      union all
      select * from (
        select distinct on (h.project_id) h.* from (
          ${laneHeads(`not exists (select 1 from ${p}bound_heads bh where bh.project_id = pg.id)`)}) h
        order by h.project_id, h.effective desc, h.seq) rest
    ), `
    : `${p}heads as materialized (
      select distinct on (h.project_id) h.* from (${laneHeads('true')}) h
      order by h.project_id, h.effective desc, h.seq
    ), `;
  return `${heads}${p}placed_heads as (
      select h.*, row_number() over (order by h.effective desc, h.key0, h.seq) - 1 as pos,
        rank() over (order by h.effective desc) - 1 as above
      from ${p}heads h
    ), ${p}head_keys as (
      select h.effective, array_agg(h.key0 order by h.key0) as keys from ${p}heads h group by h.effective
    ), ${p}quota as (
      select ph.project_id,
        (select count(*) from generate_series(0, least(${nets}, coalesce(ph.cap - ph.running, ${nets})) - 1) g(j)
         where g.j + case when g.j = 0 then ph.pos
                          else ph.above + width_bucket((ph.running + g.j)::float8 / ph.share - 1e-9, hk.keys) - 1 end
               < ${depth}) as quota
      from ${p}placed_heads ph join ${p}head_keys hk on hk.effective = ph.effective
      where ph.pos < ${depth}
    ), ${p}more as (
      select x.id, x.seq, x.project_id, x.effective
      from ${p}quota qu join project_gate pg on pg.id = qu.project_id
      cross join ${LANES_TEXT}
      cross join lateral (${laneScanText(effective, open, 'qu.quota')}) x
      where qu.quota > 1
    ), ${p}pool as (
      select h.id, h.seq, h.project_id, h.effective from ${p}heads h join ${p}quota qu on qu.project_id = h.project_id
      where qu.quota = 1
      union all
      select m.id, m.seq, m.project_id, m.effective from ${p}more m
    ), ${p}in_project as (
      select c.*, row_number() over (partition by c.project_id order by c.effective desc, c.seq) - 1 as k from ${p}pool c
    ), ${p}ranked as (
      select c.id, c.project_id, c.effective, ${FAIR_KEY_TEXT('c.k')} as fkey, c.seq,
        row_number() over (order by c.effective desc, ${FAIR_KEY_TEXT('c.k')}, c.seq) as rn
      from ${p}in_project c join project_gate pg on pg.id = c.project_id join ${p}quota qu on qu.project_id = c.project_id
      where c.k < qu.quota
    ), ${p}candidates as (
      select r.id, r.project_id, r.rn, r.effective, r.fkey, r.seq from ${p}ranked r where r.rn <= ${depth}
    )`;
}

/**
 * `candidates (id, project_id, rn)`: the jobs that can start now, in
 * dispatch order (rn 1 first), as deep as the claim can use. Needs
 * GATES_TEXT and `free`.
 *
 * fair: each project's bound first, cheaply: the oldest job of each of its
 * priority classes whose own waits are over (no other check), the best of
 * them taken as if it could start — no job of the project ranks before that
 * (its own jobs come later, or are younger, or wait). A project running
 * nothing has the fair-share key 0, so among those projects a class ranks by
 * age alone: their bounds come from the front of each class
 * (`class_window`, `job_class_queue_idx`). Only projects among the first
 * (FAIR_PROJECTS_PER_DEPTH × depth + 1) of a class can be among as many
 * first bounds, so the front is read until that many projects came; a class
 * whose front is fewer projects' jobs (`class_read.whole` false) is probed
 * project by project, as is every class of a project that runs jobs (at
 * most one per net). Only the projects whose bounds rank first
 * (FAIR_PROJECTS_PER_DEPTH × depth) are checked (`fairCandidatesText`: the
 * bound job itself, and job by job only where it fails a check); when `depth`
 * of their jobs rank before the bound of every project not checked, those are
 * the first `depth` of the whole queue (`front_complete`). Otherwise (many
 * checks failed: holds, capacities, clients) there are no candidates, and the
 * claim is asked again with `reach` 'every': every project is checked. The
 * cost follows the number of free nets and of projects running jobs, not the
 * length of the queue or the number of projects.
 *
 * fifo: the oldest jobs that can start, a few per free net (`reach` does not apply).
 */
export function candidatesText(order: OrderConfig, runnable: string, reach: FairReach): string {
  const effective = effectivePriorityText(order);
  if (order.dispatchOrder === 'fifo') {
    return `candidates as materialized (
      select c.id, c.project_id, row_number() over (order by c.seq) as rn
      from (select j.id, j.seq, j.project_id from job j
            where j.status = 'QUEUED' and ${JOB_OPEN_TEXT} and ${runnable}
            order by j.seq limit (select ${FIFO_CANDIDATES_PER_NET} * count(*) from free)) c
    )`;
  }
  const depth = `(select ${FAIR_DEPTH_PER_NET} * count(*) from free)`;
  const open = `${JOB_OPEN_IN_OPEN_PROJECT_TEXT} and ${runnable}`;
  const openProjects = `select pg.* from project_gate pg where not pg.at_cap and exists (select 1 from free)`;
  if (reach === 'every') {
    return `${fairCandidatesText('every_', openProjects, effective, open, depth, false)},
    candidates as materialized (select c.id, c.project_id, c.rn from every_candidates c)`;
  }
  const edgeAt = `${FAIR_PROJECTS_PER_DEPTH} * ${depth}`;
  const windowRows = `(select ${BOUND_WINDOW_PER_EDGE} * (${edgeAt} + 1))`;
  return `class_window as (
      select lane.priority, w.id, w.seq, w.project_id, w.effective, w.may_start
      from ${LANES_TEXT} cross join lateral (
        select j.id, j.seq, j.project_id, ${effective} as effective, ${JOB_MAY_START_TEXT} as may_start from job j
        where j.priority = lane.priority and j.status = 'QUEUED' and exists (select 1 from free)
        order by j.seq limit ${windowRows}) w
    ), idle_firsts as (
      select distinct on (w.priority, w.project_id) w.priority, w.project_id, w.id, w.seq, w.effective
      from class_window w join project_gate pg on pg.id = w.project_id
      where w.may_start and pg.running = 0 and not pg.at_cap
      order by w.priority, w.project_id, w.seq
    ), class_read as (
      select lane.priority,
        (select count(*) from class_window w where w.priority = lane.priority) < ${windowRows}
          or (select count(*) from idle_firsts z where z.priority = lane.priority) > ${edgeAt} as whole
      from ${LANES_TEXT}
    ), lane_firsts as (
      select z.project_id, z.id, z.seq, z.effective, 0::float8 as key0
      from idle_firsts z join class_read cr on cr.priority = z.priority where cr.whole
      union all
      select pg.id as project_id, f.id, f.seq, f.effective, ${FAIR_KEY_TEXT('0')} as key0
      from (${openProjects}) pg cross join class_read lane
      cross join lateral (
        select j.id, j.seq, ${effective} as effective from job j
        where j.project_id = pg.id and j.priority = lane.priority and j.status = 'QUEUED' and ${JOB_MAY_START_TEXT}
        order by j.seq limit 1) f
      where pg.running > 0 or not lane.whole
    ), bounds as materialized (
      select b.project_id, b.id, b.effective, b.key0, b.seq,
        row_number() over (order by b.effective desc, b.key0, b.seq) - 1 as pos
      from (select distinct on (lf.project_id) lf.* from lane_firsts lf order by lf.project_id, lf.effective desc, lf.seq) b
    ), edge as (
      select b.effective, b.key0, b.seq from bounds b where b.pos = ${edgeAt}
    ), ${fairCandidatesText(
      'first_',
      `select pg.*, b.id as bound_id, b.effective as bound_effective
       from project_gate pg join bounds b on b.project_id = pg.id where b.pos < ${edgeAt}`,
      effective,
      open,
      depth,
      true,
    )}, ${FRONT_COMPLETE} as (
      select not exists (select 1 from edge)
        or (select count(*) from first_candidates c, edge e
            where (-c.effective, c.fkey, c.seq) < (-e.effective, e.key0, e.seq)) >= ${depth} as yes
    ), candidates as materialized (
      select c.id, c.project_id, c.rn from first_candidates c where (select yes from ${FRONT_COMPLETE})
    )`;
}

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
 * statement, and a second one only when the first could not tell the first
 * jobs of the whole queue (fair, `FairReach`). The free nets that take jobs
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
): Promise<Claim[]> {
  if (order.dispatchOrder === 'fifo') return (await query(em, claimNextJobsStatement(claim, admission, order))).map(toClaim);
  const front = await query(em, frontClaimStatement(claim, admission, order));
  if (front[0]?.complete === false) {
    return (await query(em, claimNextJobsStatement(claim, admission, order, 'every'))).map(toClaim);
  }
  return front
    .filter((row): row is ClaimRow & { complete: boolean } => row.id !== null)
    .map(({ complete: _complete, ...row }) => toClaim(row));
}

/** The free nets a claim may fill, locked: FREE_NET_TEXT, longest free first. */
const FREE_NETS = sql`select s.id, s.net_id, s.updated_at from scheduler s join net n on n.id = s.net_id
      where ${sql.raw(FREE_NET_TEXT)}
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
  const answer = { rows: 'claimed-or-none', complete: `(select yes from ${FRONT_COMPLETE})` } as const;
  return sql<ClaimOrNoneRow>`${pairing(FREE_NETS, admission, order, 'front')}, ${assignPairs(claim, answer)} ${CLAIM_NEXT_JOBS.tag}`;
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
