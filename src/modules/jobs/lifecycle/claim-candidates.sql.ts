import { JOB_MAY_START_TEXT } from '../admission.sql.js';
import {
  effectivePriorityText,
  FAIR_KEY_TEXT,
  JOB_OPEN_IN_OPEN_PROJECT_TEXT,
  JOB_OPEN_TEXT,
  PRIORITY_LANES,
  type OrderConfig,
} from '../dispatch-order.sql.js';

/**
 * The claim's candidates (`claimNextJobs`): the jobs that can start now, in
 * dispatch order, read as deep as the claim can use — the part of the claim
 * that follows DISPATCH_ORDER.
 */

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

/**
 * fair: which projects a claim checks — those whose bounds rank first
 * ('front', the claim's first try), or every project ('every': asked only when
 * the front fell short). Two statements rather than one with both ways in it:
 * PostgreSQL sets up every part of a plan on each run, also the one not taken.
 */
export type FairReach = 'front' | 'every';

/** The CTE that tells whether the front's candidates are the first of the whole queue (reach 'front'). */
export const FRONT_COMPLETE = 'front_complete';

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
