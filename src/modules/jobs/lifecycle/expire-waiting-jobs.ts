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
 */
export async function expireWaitingJobs(
  em: EntityManager,
  config: Pick<AppConfig, 'admissionMaxWaitMs' | 'clientStatusIntervalMs'>,
): Promise<Array<{ id: string }>> {
  const { clientsReady, freeNets } = admissionPredicates(config);
  const offlineEverywhere = sql.raw(`(${JOB_MAY_START_TEXT} and exists (select 1 from ${freeNets})
    and not exists (select 1 from ${freeNets} and ${clientsReady}))`);
  const waitingInBackoff = sql`(j.retry_at > now() and (select sa.outcome from start_attempt sa where sa.job_id = j.id
    order by sa.seq desc limit 1) = ${OUTCOME.CLIENTS_OFFLINE})`;
  return query<{ id: string }>(
    em,
    sql`with waiting as (
          select j.id, j.offline_since from job j
          where j.status = ${JOB.QUEUED} and not ${UNAPPROVED_TRUST} and (${offlineEverywhere} or ${waitingInBackoff})
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
