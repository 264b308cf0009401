import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProjectScope } from '../../common/auth/scopes.js';
import { notFound } from '../../common/errors.js';
import { queryOne, sql } from '../../database/sql.js';

/**
 * A SQL condition: the model in column `modelColumn` belongs to a project in
 * scope. Unrestricted scopes get `true`, so admin and viewer pay nothing.
 */
export function modelInScope(scope: ProjectScope, modelColumn: string) {
  if (scope.unrestricted) return sql<boolean>`true`;
  return sql<boolean>`${sql.ref(modelColumn)} in (select id from model where project_id = any(${scope.projectIds}::uuid[]))`;
}

/**
 * NOT_FOUND for an unknown model, FORBIDDEN for one outside the scope. A
 * model's project never changes (no operation moves or deletes a model), so
 * this check before the write cannot race with it.
 */
export async function assertModelInScope(em: EntityManager, scope: ProjectScope, modelId: string): Promise<void> {
  if (scope.unrestricted) return;
  const model = await queryOne<{ projectId: string }>(em, sql`select project_id as "projectId" from model where id = ${modelId}`);
  if (!model) throw notFound('Model', modelId);
  scope.assertIncludes(model.projectId, `model ${modelId}`);
}

/** Like assertModelInScope, for a job (by its model's project, which never changes either). */
export async function assertJobInScope(em: EntityManager, scope: ProjectScope, jobId: string): Promise<void> {
  if (scope.unrestricted) return;
  const job = await queryOne<{ projectId: string }>(
    em,
    sql`select m.project_id as "projectId" from job j join model m on m.id = j.model_id where j.id = ${jobId}`,
  );
  if (!job) throw notFound('Job', jobId);
  scope.assertIncludes(job.projectId, `job ${jobId}`);
}
