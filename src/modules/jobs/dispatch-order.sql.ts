import type { AppConfig } from '../../config/app-config.js';
import { JOB_MAY_START_TEXT } from './admission.sql.js';
import { FRAGMENT_TEXT } from './lifecycle/fragments.js';
import { trustHeldText } from '../trusts/trust-hold.sql.js';

/**
 * The dispatch order (SPEC.md "Version 2": Order, Limits), as SQL text: ONE
 * definition, used by the claim (which takes jobs in this order) and by the
 * read that places every queued job (`queuePosition`, `pendingReason`), so
 * the two cannot disagree. The alias `j` is always a job.
 *
 * Among the jobs that can start now: effective priority first (the job's
 * class, raised one class per PRIORITY_AGING_MS waited, up to URGENT), then
 * fair share (a project's next job ranks by (its running jobs + its jobs
 * ranked before this one) / its share), then age (`seq`). With
 * DISPATCH_ORDER=fifo: age only.
 */
export type OrderConfig = Pick<AppConfig, 'dispatchOrder' | 'priorityAgingMs'>;

/** The priority classes, highest first: the claim looks at each project's queue one class at a time. */
export const PRIORITY_LANES = ['URGENT', 'HIGH', 'NORMAL', 'LOW'] as const;

const URGENT_RANK = PRIORITY_LANES.length - 1;

/** A job's class as a number (LOW 0 … URGENT 3). */
const PRIORITY_RANK_TEXT = `(case j.priority ${PRIORITY_LANES.map((lane, i) => `when '${lane}' then ${URGENT_RANK - i}`).join(' ')} end)`;

/** Job `j`'s effective priority now: its class raised one per PRIORITY_AGING_MS waited since it was queued, at most URGENT. */
export function effectivePriorityText(config: OrderConfig): string {
  if (config.dispatchOrder === 'fifo') return '0';
  if (config.priorityAgingMs === 0) return PRIORITY_RANK_TEXT;
  return `least(${URGENT_RANK}, ${PRIORITY_RANK_TEXT} + floor(extract(epoch from (now() - j.created_at)) * 1000 / ${config.priorityAgingMs})::int)`;
}

/** True for a trust `t` on hold now (a hold whose time has passed is over, by the database clock). */
const TRUST_HELD_TEXT = trustHeldText('t');

/**
 * The gates, as CTEs for a `with` list (no trailing comma): every trust that
 * is held or limited (`trust_gate`: cap, running, held), every project
 * (`project_gate`: share, cap, running) and what blocks a job outright
 * (`gate`: the trusts held, and those held or at their cap). Running jobs are
 * counted from the IN_PROGRESS jobs (at most one per net), never from a
 * trust's history.
 */
export const GATES_TEXT = `running_trust as (
    select rt.trust_id, count(*)::int as n from job r join job_trust rt on rt.job_id = r.id
    where r.status = 'IN_PROGRESS' group by rt.trust_id
  ), running_project as (
    select r.project_id, count(*)::int as n from job r where r.status = 'IN_PROGRESS' group by r.project_id
  ), trust_gate as (
    select t.id, t.name, t.max_concurrent_jobs as cap, coalesce(rt.n, 0) as running, ${TRUST_HELD_TEXT} as held, t.hold_until
    from trust t left join running_trust rt on rt.trust_id = t.id
    where t.on_hold or t.max_concurrent_jobs is not null
  ), project_gate as (
    select p.id, p.name, p.share, p.max_concurrent_jobs as cap, coalesce(rp.n, 0) as running,
      coalesce(p.max_concurrent_jobs <= coalesce(rp.n, 0), false) as at_cap
    from project p left join running_project rp on rp.project_id = p.id
  ), gate as (
    select coalesce(array_agg(id) filter (where held), '{}') as held,
      coalesce(array_agg(id) filter (where held or running >= cap), '{}') as blocked,
      (select coalesce(array_agg(id), '{}') from project_gate where at_cap) as full_projects
    from trust_gate
  )`;

/**
 * True for a job `j` naming a trust in the `gate` array `which` (held, or
 * blocked: held or at capacity): its trusts read by its own key, and only
 * when some trust is gated at all.
 */
export const namesGatedTrust = (which: 'held' | 'blocked') =>
  `(cardinality((select ${which} from gate)) > 0
    and array(select gt.trust_id from job_trust gt where gt.job_id = j.id) && (select ${which} from gate))`;

/** True for a job `j` whose project runs its maximum of jobs. */
export const PROJECT_FULL_TEXT = `(j.project_id = any((select full_projects from gate)::uuid[]))`;

/**
 * namesGatedTrust for a pass over the whole queue: the same condition as a
 * semi-join the planner may run set-wise (the gated trusts' jobs hashed once)
 * rather than one probe per queued job.
 */
export const namesGatedTrustInQueue = (which: 'held' | 'blocked') =>
  `(cardinality((select ${which} from gate)) > 0
    and exists (select 1 from job_trust gt where gt.job_id = j.id and gt.trust_id = any((select ${which} from gate)::uuid[])))`;

/**
 * True for a job `j` naming a trust no longer approved for its model — looked
 * for only when its model has a revoked approval (`revoked_approval`, kept by
 * a trigger): a job can name an unapproved trust only through one.
 */
const NAMES_UNAPPROVED_TRUST_TEXT = `(exists (select 1 from revoked_approval ra where ra.model_id = j.model_id)
  and ${FRAGMENT_TEXT.UNAPPROVED_TRUST})`;

/**
 * True for a QUEUED job `j` that nothing but a net keeps from starting: its
 * own waits are over (backoff, start time), every trust approved, none held
 * or at capacity, its project below its cap. Needs GATES_TEXT.
 */
export const JOB_OPEN_TEXT = `(${JOB_MAY_START_TEXT} and not ${PROJECT_FULL_TEXT} and not ${namesGatedTrust('blocked')}
  and not ${NAMES_UNAPPROVED_TRUST_TEXT})`;

/** JOB_OPEN_TEXT for a job of a project known to be below its cap. */
export const JOB_OPEN_IN_OPEN_PROJECT_TEXT = `(${JOB_MAY_START_TEXT} and not ${namesGatedTrust('blocked')}
  and not ${NAMES_UNAPPROVED_TRUST_TEXT})`;

/** A job's fair-share key: (its project's running jobs + its jobs ranked before it) / share (`k`, `pg` a project_gate row). */
export const FAIR_KEY_TEXT = (k: string) => `((pg.running + ${k})::float8 / pg.share)`;

/** Jobs IN_PROGRESS now that name trust `t`: a probe per running job (at most one per net), never the trust's history. */
const TRUST_RUNNING_TEXT = `(select count(*) from job r where r.status = 'IN_PROGRESS'
  and exists (select 1 from job_trust rt where rt.job_id = r.id and rt.trust_id = t.id))`;

/**
 * True for a job `j` that no hold or limit keeps from starting, without the
 * gates' CTEs: for a statement asked on its own (the follower's look).
 */
export const JOB_UNGATED_TEXT = `(not exists (select 1 from job_trust jt join trust t on t.id = jt.trust_id
    where jt.job_id = j.id and (${TRUST_HELD_TEXT} or t.max_concurrent_jobs <= ${TRUST_RUNNING_TEXT}))
  and not exists (select 1 from project p where p.id = j.project_id
    and p.max_concurrent_jobs <= (select count(*) from job r where r.status = 'IN_PROGRESS' and r.project_id = p.id)))`;
