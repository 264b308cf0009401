import type { RawBuilder } from 'kysely';
import { sql } from '../../../database/sql.js';
import { JOB } from '../../jobs/lifecycle/fragments.js';
import { PROJECT_COLUMNS, type ProjectRow } from '../../models/model.sql.js';
import { trustHeldText } from '../../trusts/trust-hold.sql.js';
import { TRUST_COLUMNS, type TrustRow } from '../../trusts/trusts.service.js';

/** What a trust's limit and hold were before a change: to tell whether the change may let a job start. */
export interface TrustBefore {
  previousLimit: number | null;
  wasHeld: boolean;
}

/** What a project's limit and share were before a change. */
export interface ProjectBefore {
  previousLimit: number | null;
  previousShare: number;
}

/**
 * One statement: sets `assignments` on trust `trustId` and answers it as
 * TrustModel (with its kit slot), beside its limit and hold before; no row
 * for an unknown trust.
 */
export function updateTrust(trustId: string, assignments: RawBuilder<unknown>) {
  return sql<TrustRow & TrustBefore>`with changed as (
      update trust t set ${assignments} from trust prior where t.id = ${trustId} and prior.id = t.id
      returning t.*, prior.max_concurrent_jobs as previous_limit, ${sql.raw(trustHeldText('prior'))} as was_held)
    select ${TRUST_COLUMNS}, t.previous_limit as "previousLimit", t.was_held as "wasHeld"
    from changed t left join kit_slot k on k.assigned_trust_id = t.id`;
}

/** One statement: sets `assignments` on project `projectId`, answered as ProjectModel beside its limit and share before. */
export function updateProject(projectId: string, assignments: RawBuilder<unknown>) {
  return sql<ProjectRow & ProjectBefore>`update project p set ${assignments} from project prior
    where p.id = ${projectId} and prior.id = p.id
    returning ${PROJECT_COLUMNS}, prior.max_concurrent_jobs as "previousLimit", prior.share as "previousShare"`;
}

export function selectProject(projectId: string) {
  return sql<ProjectRow>`select ${PROJECT_COLUMNS} from project p where p.id = ${projectId}`;
}

/** True when `time` has come by the database clock (a hold until then would be over at once). */
export function hasCome(time: Date) {
  return sql<{ come: boolean }>`select ${time}::timestamptz <= now() as come`;
}

/** Jobs IN_PROGRESS now naming each of the trusts (on any net); a trust running none is absent. */
export function runningJobsOfTrusts(trustIds: readonly string[]) {
  return sql<{ id: string; running: number }>`select jt.trust_id as id, count(*)::int as running
    from job_trust jt join job j on j.id = jt.job_id
    where jt.trust_id = any(${trustIds}::uuid[]) and j.status = ${JOB.IN_PROGRESS} group by jt.trust_id`;
}

/** Jobs IN_PROGRESS now of each of the projects; a project running none is absent. */
export function runningJobsOfProjects(projectIds: readonly string[]) {
  return sql<{ id: string; running: number }>`select j.project_id as id, count(*)::int as running
    from job j where j.project_id = any(${projectIds}::uuid[]) and j.status = ${JOB.IN_PROGRESS} group by j.project_id`;
}
