import type { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../../database/sql.js';
import { END, JOB, MODEL, oneOf, UNAPPROVED_TRUST } from './fragments.js';
import { JobState, lifecycleStatement, LIVE_JOB_STATUSES } from './transitions.js';

export const RETIRE_INVALID_QUEUED_JOBS = lifecycleStatement('retireInvalidQueuedJobs', {
  job: [[JobState.QUEUED, JobState.DELETED]],
});

/** Every queued job naming a trust no longer approved → DELETED; its model → ERROR unless it has another live job. */
export async function retireInvalidQueuedJobs(em: EntityManager): Promise<Array<{ id: string }>> {
  return query<{ id: string }>(
    em,
    sql`with retired as (
          update job set status = ${JOB.DELETED}, end_reason = ${END.UNAPPROVED_TRUST}
          where id in (select j.id from job j where j.status = ${JOB.QUEUED} and ${UNAPPROVED_TRUST} for update of j skip locked)
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
