import { Args, ID, Int, Mutation, Resolver } from '@nestjs/graphql';
import { Allow } from '../../common/auth/roles.js';
import { ActScope, ProjectScope } from '../../common/auth/scopes.js';
import { UuidPipe } from '../../common/uuid.pipe.js';
import { JobModel } from '../jobs/job.model.js';
import { JobRemovalService } from './running/job-removal.service.js';

/** Removals: a running job's run is aborted on its net, so they belong to the engine, not to the queue. */
@Resolver(() => JobModel)
export class JobRemovalResolver {
  constructor(private readonly removal: JobRemovalService) {}

  @Allow('researcher')
  @Mutation(() => JobModel, { description: 'job → DELETED; a running job is aborted on its net' })
  removeJob(@Args('id', { type: () => ID }, UuidPipe) id: string, @ActScope() scope: ProjectScope): Promise<JobModel> {
    return this.removal.removeJob(id, scope);
  }

  @Allow('researcher')
  @Mutation(() => Int, { description: 'number of jobs set to DELETED' })
  removeJobsForModel(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @ActScope() scope: ProjectScope,
  ): Promise<number> {
    return this.removal.removeJobsForModel(modelId, scope);
  }
}
