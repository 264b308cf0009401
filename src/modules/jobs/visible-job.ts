import type { ProjectScope } from '../../common/auth/scopes.js';
import type { RequestLoaders } from '../../graphql/request-loaders.js';
import { ModelLoaders } from '../models/model.loaders.js';
import type { JobModel } from './job.model.js';

/** The job when its project is in scope, else null: a job the caller may not see shows as no job at all. */
export async function visibleJob(loaders: RequestLoaders, scope: ProjectScope, job: JobModel | null): Promise<JobModel | null> {
  if (!job || scope.unrestricted) return job;
  const projectId = await loaders.of(ModelLoaders).projectOfModel.load(job.modelId);
  return projectId !== null && scope.includes(projectId) ? job : null;
}
