import type { EntityManager } from '@mikro-orm/postgresql';
import type { NetScope } from '../../../common/auth/scopes.js';
import { DomainError } from '../../../common/errors.js';
import { query, sql } from '../../../database/sql.js';
import type { EndRunTarget } from '../../jobs/lifecycle/end-runs.js';
import { JOB } from '../../jobs/lifecycle/fragments.js';

/**
 * For a run report (`completeTraining`, `updateModelStatus`) inside the
 * caller's transaction, after it locked the model: which runs the report may
 * end. Admin: every IN_PROGRESS job of the model. A net: only the model's
 * IN_PROGRESS job on its own net, locked here until commit so that it cannot
 * be recovered or moved between this check and the write; FORBIDDEN when the
 * model has no such job (a net cannot report on a run it does not have).
 */
export async function lockReportedRun(em: EntityManager, modelId: string, reporter: NetScope): Promise<EndRunTarget> {
  if (reporter.any) return { modelId };
  const runs = await query<{ jobId: string; netName: string }>(
    em,
    sql`select j.id as "jobId", n.name as "netName" from job j join net n on n.id = j.net_id
        where j.model_id = ${modelId} and j.status = ${JOB.IN_PROGRESS}
        for update of j`,
  );
  const own = runs.find((run) => reporter.net !== null && run.netName === reporter.net);
  if (!own) {
    const who = reporter.net === null ? 'a net token without a net claim' : `net "${reporter.net}"`;
    throw new DomainError('FORBIDDEN', `${who} runs no job of model ${modelId}, so it cannot report on it`);
  }
  return { modelId, jobId: own.jobId };
}
