import type { EntityManager } from '@mikro-orm/postgresql';
import { query, queryOne, sql } from '../../../database/sql.js';
import { LIVE_JOB_STATUSES } from '../../jobs/lifecycle/transitions.js';
import { MODEL_COLUMNS, type ModelRow } from '../../models/model.sql.js';

/**
 * Locks a model for a change of its runs (a completion, a status report, a
 * stop, a removal), inside the caller's transaction, in the hub's one lock
 * order: the model's live jobs first, then the model. The start's
 * confirmation moves its job, then the net's scheduler, then the model, in
 * one statement; taking the model first here deadlocked against it when a
 * net reported the end while its `submit_job` answer was being recorded.
 * Undefined when the model does not exist.
 */
export async function lockModelForRunChange(em: EntityManager, modelId: string): Promise<ModelRow | undefined> {
  await query(
    em,
    sql`select id from job where model_id = ${modelId} and status in (${sql.join([...LIVE_JOB_STATUSES])})
        order by id for update`,
  );
  return queryOne<ModelRow>(em, sql`select ${MODEL_COLUMNS} from model m where m.id = ${modelId} for update`);
}
