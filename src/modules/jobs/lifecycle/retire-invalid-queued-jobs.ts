import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { END, JOB, MODEL, oneOf, UNAPPROVED_TRUST } from './fragments.js';
import { JobState, lifecycleStatement, LIVE_JOB_STATUSES } from './transitions.js';

export const RETIRE_INVALID_QUEUED_JOBS = lifecycleStatement('retireInvalidQueuedJobs', {
  job: [[JobState.QUEUED, JobState.DELETED]],
});

/**
 * Every queued job naming a trust no longer approved → DELETED; its model →
 * ERROR unless it has another live job. Such a job can only be a job of a
 * model with a revoked approval (`revoked_approval`, kept by a trigger on
 * `model_approved_trust`: queueTraining refuses unapproved trusts), so only
 * those models' jobs are looked at, not the whole queue.
 */
export async function retireInvalidQueuedJobs(em: EntityManager): Promise<Array<{ id: string }>> {
  return query<{ id: string }>(
    em,
    sql`with retired as (
          update job set status = ${JOB.DELETED}, end_reason = ${END.UNAPPROVED_TRUST}
          where id in (select j.id from job j
                       where j.model_id in (select r.model_id from revoked_approval r)
                         and j.status = ${JOB.QUEUED} and ${UNAPPROVED_TRUST}
                       for update of j skip locked)
          returning id, model_id
        ), errored as (
          update model m set status = ${MODEL.ERROR}, updated_at = now()
          where m.id in (select model_id from retired) and m.status <> ${MODEL.STOPPED}
            and not exists (select 1 from job o where o.model_id = m.id and o.status in ${oneOf(LIVE_JOB_STATUSES)}
                            and o.id not in (select id from retired))
        )
        select id from retired ${RETIRE_INVALID_QUEUED_JOBS.tag}`,
  );
}
