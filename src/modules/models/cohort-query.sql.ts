import { sql } from '../../database/sql.js';

/**
 * The latest cohort query of a project, as a row source `(…) <alias>` with
 * the columns id, name, query, created_at: `projectId` is the SQL expression
 * of the project's id (e.g. `m.project_id`). Read it as a scalar subquery,
 * `(select lc.query from ${latestCohortQuery('m.project_id', 'lc')})`.
 */
export const latestCohortQuery = (projectId: string, alias: string) =>
  sql.raw(`(select c.id, c.name, c.query, c.created_at from cohort_query c
            where c.project_id = ${projectId} order by c.seq desc limit 1) ${alias}`);
