import type { RawBuilder } from 'kysely';
import type { AppConfig } from '../../config/app-config.js';
import { sql } from '../../database/sql.js';
import { admissionPredicates, FREE_NET_TEXT, JOB_MAY_START_TEXT, PICKUP_PAUSED_TEXT } from './admission.sql.js';
import {
  effectivePriorityText,
  FAIR_KEY_TEXT,
  GATES_TEXT,
  namesGatedTrustInQueue,
  PROJECT_FULL_TEXT,
} from './dispatch-order.sql.js';
import { WAITS_FOR_NOT_BEFORE_TEXT } from './job-timing.sql.js';
import type { JobRow } from './job.sql.js';

/** A job row with what the queue says of it, all read in one statement (null unless QUEUED). */
export type QueuedJobRow = JobRow & {
  /** its place in the dispatch order, 1 = next to start */
  queuePosition: number | null;
  pendingReason: string | null;
  pendingDetail: string | null;
};

/** The one reason that can start now: nothing but a net keeps the job waiting. */
const CAN_START = 'WAITING_FOR_NET';

const utc = (expression: string) => `to_char((${expression}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/**
 * Why QUEUED job `j` is not running, from the claim's own predicates, the
 * most lasting first: the hub paused, no net, its start time, a trust held,
 * its project or a trust at capacity, its backoff, its clients offline on
 * every free net; else it waits for a net (WAITING_FOR_NET: the claim takes
 * it, in its order, when a net is free). Needs GATES_TEXT.
 */
function pendingReasonText(config: AppConfig): string {
  const { clientsReady, freeNets } = admissionPredicates(config);
  return `case
      when h.paused then 'DEPLOYMENT_MODE'
      when h.no_net then 'NO_NET'
      when ${WAITS_FOR_NOT_BEFORE_TEXT} and not coalesce(j.retry_at > j.not_before, false) then 'NOT_BEFORE'
      when ${namesGatedTrustInQueue('held')} then 'TRUST_HELD'
      when ${PROJECT_FULL_TEXT} then 'PROJECT_AT_CAPACITY'
      when ${namesGatedTrustInQueue('blocked')} then 'TRUST_AT_CAPACITY'
      when not ${JOB_MAY_START_TEXT} then case
        when (select sa.outcome from start_attempt sa where sa.job_id = j.id order by sa.seq desc limit 1) = 'CLIENTS_OFFLINE'
        then 'CLIENTS_OFFLINE' else 'RETRY_BACKOFF' end
      when h.any_free and not h.any_free_admits_all and not exists (select 1 from ${freeNets} and ${clientsReady}) then 'CLIENTS_OFFLINE'
      else '${CAN_START}' end`;
}

/**
 * What holds every job alike, read once: `hub (paused, no_net, any_free,
 * any_free_admits_all)` — the last: a free net where any job's clients pass
 * (no job is then held back by its clients, and none is checked one by one).
 */
function hubStateText(config: AppConfig): string {
  const { freeNets, anyClientsReady } = admissionPredicates(config);
  return `hub as (
      select ${PICKUP_PAUSED_TEXT} as paused, not exists (select 1 from net nd where not nd.drained) as no_net,
        exists (select 1 from ${freeNets}) as any_free,
        exists (select 1 from ${freeNets} and ${anyClientsReady}) as any_free_admits_all
    )`;
}

/** For people: what lies behind reason `r.reason` of job `j` (`a`: its last start attempt). Needs GATES_TEXT. */
function pendingDetailText(config: AppConfig): string {
  const { freeNets } = admissionPredicates(config);
  const offlineOnFreeNets = `(select string_agg(k.slot_name || ' on ' || n.name, ', ' order by k.slot_number, n.name)
      from scheduler s join net n on n.id = s.net_id
      join job_trust jt on jt.job_id = j.id join kit_slot k on k.assigned_trust_id = jt.trust_id
      left join net_client c on c.net_id = n.id and c.client_name = k.slot_name
      where ${FREE_NET_TEXT} and c.online is not true)`;
  return `case r.reason
      when 'DEPLOYMENT_MODE' then 'the hub is in deployment mode: running jobs finish, nothing new starts'
      when 'NO_NET' then case when exists (select 1 from net) then 'every net is drained' else 'no net is registered' end
      when 'NOT_BEFORE' then 'starts at ' || ${utc('j.not_before')}
      when 'TRUST_HELD' then 'on hold: ' || (select string_agg(tg.name || coalesce(' until ' || ${utc('tg.hold_until')}, ' until released'), ', ' order by tg.name)
        from job_trust jt join trust_gate tg on tg.id = jt.trust_id where jt.job_id = j.id and tg.held)
      when 'PROJECT_AT_CAPACITY' then (select 'project ' || pg.name || ' runs ' || pg.running || ' of its ' || pg.cap || ' jobs at once'
        from project_gate pg where pg.id = j.project_id)
      when 'TRUST_AT_CAPACITY' then 'at capacity: ' || (select string_agg(tg.name || ' runs ' || tg.running || ' of ' || tg.cap, ', ' order by tg.name)
        from job_trust jt join trust_gate tg on tg.id = jt.trust_id where jt.job_id = j.id and tg.running >= tg.cap)
      when 'RETRY_BACKOFF' then 'start ' || j.failed_starts || ' of ' || ${config.maxStartAttempts}::int || ' failed'
        || coalesce(' on ' || a.net_name, '') || coalesce(': ' || a.detail, '') || '; tried again at ' || ${utc('j.retry_at')}
      when 'CLIENTS_OFFLINE' then case when j.retry_at > now()
        then coalesce(a.detail, 'clients offline') || coalesce(' on ' || a.net_name, '') || '; tried again at ' || ${utc('j.retry_at')}
        else 'clients offline on every free net: ' || coalesce(${offlineOnFreeNets}, 'unknown') end
        || case when j.offline_since is not null and ${config.admissionMaxWaitMs}::bigint > 0
             then '; removed at ' || ${utc(`j.offline_since + ${config.admissionMaxWaitMs} * interval '1 millisecond'`)} else '' end
      when '${CAN_START}' then case when exists (select 1 from ${freeNets})
        then 'a net is free: it starts with the next cycle' else 'every net is busy' end
    end`;
}

/**
 * The rows `page` selects (JOB_COLUMNS of `job j` and `j.seq`), each QUEUED
 * one with its place in the dispatch order and why it waits, in the same
 * statement as the row itself (one snapshot: a QUEUED row always has a
 * position and a reason, and they agree with what the claim would do).
 *
 * The order (SPEC.md "Order"): the jobs that can start now (WAITING_FOR_NET)
 * before those that cannot, each group by effective priority, then fair share
 * (the project's running jobs + its jobs ranked before in the group, over its
 * share), then age. It is one pass over the queue: a reason per queued job
 * (a few index probes, most of them skipped when nothing is held, capped,
 * waiting or free), two window sorts; the details are written for the page's
 * rows only. A page without QUEUED rows skips the pass.
 */
export function withQueueState(config: AppConfig, page: RawBuilder<unknown>): RawBuilder<QueuedJobRow> {
  const effective = effectivePriorityText(config);
  const fifo = config.dispatchOrder === 'fifo';
  const order = fifo
    ? `(c.reason = '${CAN_START}') desc, c.seq`
    : `(c.reason = '${CAN_START}') desc, c.effective desc, ${FAIR_KEY_TEXT('c.k')}, c.seq`;
  return sql<QueuedJobRow>`with page as (${page}), ${sql.raw(GATES_TEXT)}, ${sql.raw(hubStateText(config))},
      queued as (
        select j.id, j.seq, j.project_id, ${sql.raw(effective)} as effective, ${sql.raw(pendingReasonText(config))} as reason
        from job j cross join hub h where j.status = 'QUEUED' and exists (select 1 from page where page.status = 'QUEUED')
      ), in_project as (
        select q.*, row_number() over (partition by q.project_id, q.reason = '${sql.raw(CAN_START)}' order by q.effective desc, q.seq) - 1 as k
        from queued q
      ), ordered as (
        select c.id, c.reason, row_number() over (order by ${sql.raw(order)})::int as position
        from in_project c join project_gate pg on pg.id = c.project_id
      ), placed as materialized (
        select o.id, o.reason, o.position from ordered o where o.id in (select id from page)
      )
    select page.*, r.position as "queuePosition", r.reason as "pendingReason", ${sql.raw(pendingDetailText(config))} as "pendingDetail"
    from page
    left join placed r on r.id = page.id
    left join lateral (select * from job jr where jr.id = page.id) j on r.id is not null
    left join lateral (select sa.outcome, sa.detail, an.name as net_name from start_attempt sa
                       left join net an on an.id = sa.net_id where sa.job_id = j.id order by sa.seq desc limit 1) a on j.id is not null
    order by page.seq`;
}
