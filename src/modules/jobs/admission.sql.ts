import type { AppConfig } from '../../config/app-config.js';
import { sql } from '../../database/sql.js';
import {
  jobClientsOnlineSql,
  jobClientsOnNetSql,
  netAdmitsAnyClientsSql,
  trustsOfflineOnNetSql,
} from '../nets/net-client.sql.js';
import { NOT_BEFORE_REACHED_TEXT } from './job-timing.sql.js';
import { FRAGMENT_TEXT } from './lifecycle/fragments.js';

/**
 * When a QUEUED job may be claimed, as SQL: ONE definition, used by the claim
 * (which pairs jobs with nets) and by the read that says why a job waits
 * (`pendingReason`, queue-state.sql.ts), so the two cannot disagree; the
 * holds, capacities and the order are dispatch-order.sql.ts. Each predicate names its
 * rows: `j` a job, `n` a net, `s` a scheduler.
 */

/** True while the deployment mode (pickup paused) is on. */
export const PICKUP_PAUSED_TEXT = FRAGMENT_TEXT.PICKUP_PAUSED;

/** True for a net `n` that may take a new job: not drained, and no failed call waiting for its probe. */
export const NET_TAKES_JOBS_TEXT = `(not n.drained and n.failed_calls = 0)`;

/** True for a scheduler `s` of net `n` that may take a job now. */
export const FREE_NET_TEXT = `s.status = 'AVAILABLE' and ${NET_TAKES_JOBS_TEXT} and not ${PICKUP_PAUSED_TEXT}`;

/** True for a job `j` whose own waits are over: its backoff after a try, and its own start time. */
export const JOB_MAY_START_TEXT = [`(j.retry_at is null or j.retry_at <= now())`, NOT_BEFORE_REACHED_TEXT].join(' and ');

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
  const ignoresClients = config.admissionMaxWaitMs === 0 || config.clientStatusIntervalMs === 0;
  const clientsReady = ignoresClients ? 'true' : jobClientsOnlineSql(3 * config.clientStatusIntervalMs);
  /** True for a net `n` where any job's clients pass (clientsReady without the job). */
  const anyClientsReady = ignoresClients ? 'true' : netAdmitsAnyClientsSql(3 * config.clientStatusIntervalMs);
  /** The job's part of clientsReady, for a net `n` where anyClientsReady is false (asked once per net, not per job). */
  const jobClientsOnNet = ignoresClients ? 'true' : jobClientsOnNetSql(3 * config.clientStatusIntervalMs);
  /** The trusts whose clients keep some job off a free net `n` (none when clients are not looked at): a `trust_id` query. */
  const trustsOfflineOnNet = ignoresClients
    ? 'select null::uuid as trust_id where false'
    : trustsOfflineOnNetSql(3 * config.clientStatusIntervalMs);
  /** The free schedulers `s` with their nets `n`, for a `from` clause (more conditions may follow with `and`). */
  const freeNets = `scheduler s join net n on n.id = s.net_id where ${FREE_NET_TEXT}`;
  return { clientsReady, anyClientsReady, jobClientsOnNet, trustsOfflineOnNet, freeNets };
}

/** `base · 2^n` ms, at most `max` ms, as an interval (n: the waits so far, a column). */
export function backoffInterval(config: Pick<AppConfig, 'admissionBackoffMs' | 'admissionBackoffMaxMs'>, waits: string) {
  return sql`(least(${config.admissionBackoffMs}::float8 * power(2::float8, least(${sql.raw(waits)}, 40)),
                    ${config.admissionBackoffMaxMs}::float8) * interval '1 millisecond')`;
}
