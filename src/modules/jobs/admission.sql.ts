import type { RawBuilder } from 'kysely';
import type { AppConfig } from '../../config/app-config.js';
import { sql } from '../../database/sql.js';
import { jobClientsOnlineSql } from '../nets/net-client.sql.js';
import { NOT_BEFORE_REACHED_TEXT, WAITS_FOR_NOT_BEFORE_TEXT } from './job-timing.sql.js';
import { FRAGMENT_TEXT } from './lifecycle/fragments.js';

/**
 * When a QUEUED job may be claimed, as SQL: ONE definition, used by the claim
 * (which pairs jobs with nets) and by the read that says why a job waits
 * (`pendingReason`), so the two cannot disagree. Each predicate names its
 * rows: `j` a job, `n` a net, `s` a scheduler.
 */

/** True while the deployment mode (pickup paused) is on. */
export const PICKUP_PAUSED_TEXT = FRAGMENT_TEXT.PICKUP_PAUSED;

/** True for a net `n` that may take a new job: not drained, and no failed call waiting for its probe. */
export const NET_TAKES_JOBS_TEXT = `(not n.drained and n.failed_calls = 0)`;

/** True for a scheduler `s` of net `n` that may take a job now. */
export const FREE_NET_TEXT = `s.status = 'AVAILABLE' and ${NET_TAKES_JOBS_TEXT} and not ${PICKUP_PAUSED_TEXT}`;

/** True for a job `j` whose own waits are over: its backoff after a try, and its own start time. */
export const JOB_MAY_START_TEXT = [
  `(j.retry_at is null or j.retry_at <= now())`,
  NOT_BEFORE_REACHED_TEXT,
  // issue 13: TRUST_HELD, TRUST_AT_CAPACITY, PROJECT_AT_CAPACITY go here
].join(' and ');

/**
 * The admission's predicates under one configuration. With
 * ADMISSION_MAX_WAIT_MS=0 a job never waits for clients, so the claim does
 * not look at them either: it takes the job, and the start's own
 * `check_client_status` removes it (FLIP's fail-fast behaviour).
 */
export function admissionPredicates(config: Pick<AppConfig, 'admissionMaxWaitMs' | 'clientStatusIntervalMs'>) {
  /**
   * True when job `j` may run on net `n` as far as its clients go: the hub's
   * recent view of them (within three background refreshes). With the
   * refresh off (CLIENT_STATUS_INTERVAL_MS=0) nothing would tell the hub that
   * clients came back, so the claim does not look at them: each start's own
   * `check_client_status` decides, after each backoff.
   */
  const clientsReady =
    config.admissionMaxWaitMs === 0 || config.clientStatusIntervalMs === 0
      ? 'true'
      : jobClientsOnlineSql(3 * config.clientStatusIntervalMs);
  /** The free schedulers `s` with their nets `n`, for a `from` clause (more conditions may follow with `and`). */
  const freeNets = `scheduler s join net n on n.id = s.net_id where ${FREE_NET_TEXT}`;
  /** True when some free net takes job `j` now: the claim's condition on a job. */
  const runnableNow = `(${JOB_MAY_START_TEXT} and exists (select 1 from ${freeNets} and ${clientsReady}))`;
  return { clientsReady, freeNets, runnableNow };
}

/** `base · 2^n` ms, at most `max` ms, as an interval (n: the waits so far, a column). */
export function backoffInterval(config: Pick<AppConfig, 'admissionBackoffMs' | 'admissionBackoffMaxMs'>, waits: string) {
  return sql`(least(${config.admissionBackoffMs}::float8 * power(2::float8, least(${sql.raw(waits)}, 40)),
                    ${config.admissionBackoffMaxMs}::float8) * interval '1 millisecond')`;
}

export interface PendingRow {
  id: string;
  pendingReason: string | null;
  pendingDetail: string | null;
  notBefore: Date | null;
}

const utc = (expression: string) => `to_char((${expression}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/**
 * Why each QUEUED job among `ids` is not running (null for the others), what
 * lies behind it, and the earliest time it may start (its backoff or its own
 * start time; null when it may start now) — in one statement, from the
 * claim's own predicates.
 */
export function pendingStatement(config: AppConfig, ids: readonly string[]): RawBuilder<PendingRow> {
  const { clientsReady, freeNets } = admissionPredicates(config);
  const offlineOnFreeNets = `(select string_agg(k.slot_name || ' on ' || n.name, ', ' order by k.slot_number, n.name)
      from scheduler s join net n on n.id = s.net_id
      join job_trust jt on jt.job_id = j.id join kit_slot k on k.assigned_trust_id = jt.trust_id
      left join net_client c on c.net_id = n.id and c.client_name = k.slot_name
      where ${FREE_NET_TEXT} and c.online is not true)`;
  return sql<PendingRow>`select j.id, r.reason as "pendingReason",
      case r.reason
        when 'DEPLOYMENT_MODE' then 'the hub is in deployment mode: running jobs finish, nothing new starts'
        when 'NO_NET' then case when exists (select 1 from net) then 'every net is drained' else 'no net is registered' end
        when 'RETRY_BACKOFF' then 'start ' || j.failed_starts || ' of ' || ${config.maxStartAttempts}::int || ' failed'
          || coalesce(' on ' || a.net_name, '') || coalesce(': ' || a.detail, '') || '; tried again at ' || ${sql.raw(utc('j.retry_at'))}
        when 'CLIENTS_OFFLINE' then case when j.retry_at > now()
          then coalesce(a.detail, 'clients offline') || coalesce(' on ' || a.net_name, '') || '; tried again at ' || ${sql.raw(utc('j.retry_at'))}
          else 'clients offline on every free net: ' || coalesce(${sql.raw(offlineOnFreeNets)}, 'unknown') end
          || case when j.offline_since is not null and ${config.admissionMaxWaitMs}::bigint > 0
               then '; removed at ' || ${sql.raw(utc(`j.offline_since + ${config.admissionMaxWaitMs} * interval '1 millisecond'`))} else '' end
        when 'NOT_BEFORE' then 'starts at ' || ${sql.raw(utc('j.not_before'))}
        when 'WAITING_FOR_NET' then case when exists (select 1 from ${sql.raw(freeNets)})
          then 'a net is free: it starts with the next cycle' else 'every net is busy' end
      end as "pendingDetail",
      case when j.status = 'QUEUED' and greatest(j.retry_at, j.not_before) > now() then greatest(j.retry_at, j.not_before) end as "notBefore"
    from job j
    left join lateral (select sa.outcome, sa.detail, an.name as net_name from start_attempt sa
                       left join net an on an.id = sa.net_id where sa.job_id = j.id order by sa.seq desc limit 1) a on true
    cross join lateral (select case
        when j.status <> 'QUEUED' then null
        when ${sql.raw(PICKUP_PAUSED_TEXT)} then 'DEPLOYMENT_MODE'
        when not exists (select 1 from net n where not n.drained) then 'NO_NET'
        when ${sql.raw(WAITS_FOR_NOT_BEFORE_TEXT)} and not coalesce(j.retry_at > j.not_before, false) then 'NOT_BEFORE'
        -- issue 13: TRUST_HELD, TRUST_AT_CAPACITY, PROJECT_AT_CAPACITY go here
        when not ${sql.raw(JOB_MAY_START_TEXT)} then case when a.outcome = 'CLIENTS_OFFLINE' then 'CLIENTS_OFFLINE' else 'RETRY_BACKOFF' end
        when exists (select 1 from ${sql.raw(freeNets)})
          and not exists (select 1 from ${sql.raw(freeNets)} and ${sql.raw(clientsReady)}) then 'CLIENTS_OFFLINE'
        else 'WAITING_FOR_NET' end as reason) r
    where j.id = any(${ids}::uuid[])`;
}
