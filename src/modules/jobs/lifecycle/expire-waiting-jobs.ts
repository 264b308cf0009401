import type { EntityManager } from '@mikro-orm/postgresql';
import type { AppConfig } from '../../../config/app-config.js';
import { query, sql } from '../../../database/sql.js';
import { admissionPredicates, JOB_MAY_START_TEXT } from '../admission.sql.js';
import { END, JOB, MODEL, OUTCOME, UNAPPROVED_TRUST } from './fragments.js';
import { JobState, lifecycleStatement } from './transitions.js';

export const EXPIRE_WAITING_JOBS = lifecycleStatement('expireWaitingJobs', {
  job: [
    [JobState.QUEUED, JobState.QUEUED],
    [JobState.QUEUED, JobState.DELETED],
  ],
});

/**
 * In one statement: a queued job that may start but whose clients are
 * offline on every free net starts waiting for them (`offline_since`); a job
 * that has waited for its clients ADMISSION_MAX_WAIT_MS — offline on every
 * free net, or in its backoff after its start found them offline — is
 * removed (DELETED, ADMISSION_TIMEOUT, model ERROR). Returns the removed jobs.
 *
 * A job offline on every free net names a trust whose client is offline on
 * the first of them at least: those trusts are found once (`offline_trusts`,
 * from the free nets that look at clients at all), and only the queued jobs
 * naming one, or in a backoff, are checked further (`suspects`) — none when
 * every client is online and no start failed, so a cycle does not check every
 * queued job's clients on every free net.
 */
export async function expireWaitingJobs(
  em: EntityManager,
  config: Pick<AppConfig, 'admissionMaxWaitMs' | 'clientStatusIntervalMs'>,
): Promise<Array<{ id: string }>> {
  const { clientsReady, anyClientsReady, trustsOfflineOnNet, freeNets } = admissionPredicates(config);
  const offlineEverywhere = sql.raw(`(${JOB_MAY_START_TEXT} and exists (select 1 from ${freeNets})
    and not exists (select 1 from ${freeNets} and ${clientsReady}))`);
  const waitingInBackoff = sql`(j.retry_at > now() and (select sa.outcome from start_attempt sa where sa.job_id = j.id
    order by sa.seq desc limit 1) = ${OUTCOME.CLIENTS_OFFLINE})`;
  return query<{ id: string }>(
    em,
    sql`with offline_trusts as materialized (
          select distinct o.trust_id from (select n.id from ${sql.raw(freeNets)} and not ${sql.raw(anyClientsReady)}) n
          cross join lateral (${sql.raw(trustsOfflineOnNet)}) o
        ), suspects as materialized (
          select j.id from job j where j.status = ${JOB.QUEUED} and j.retry_at > now()
          union
          select j.id from job j
          where exists (select 1 from offline_trusts) and j.status = ${JOB.QUEUED}
            and exists (select 1 from job_trust jt where jt.job_id = j.id and jt.trust_id in (select trust_id from offline_trusts))
        ), waiting as (
          select j.id, j.offline_since from job j
          where j.id in (select id from suspects) and j.status = ${JOB.QUEUED}
            and (${offlineEverywhere} or ${waitingInBackoff}) and not ${UNAPPROVED_TRUST}
          for update of j skip locked
        ), started_waiting as (
          update job set offline_since = now() where id in (select id from waiting where offline_since is null)
        ), removed as (
          update job set status = ${JOB.DELETED}, end_reason = ${END.ADMISSION_TIMEOUT}
          where id in (select id from waiting
                       where offline_since + ${config.admissionMaxWaitMs} * interval '1 millisecond' <= now())
          returning id, model_id
        ), errored as (
          update model m set status = ${MODEL.ERROR}, updated_at = now()
          where m.id in (select model_id from removed) and m.status <> ${MODEL.STOPPED}
        )
        select id from removed ${EXPIRE_WAITING_JOBS.tag}`,
  );
}
