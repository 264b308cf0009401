import { Context, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import type { GqlContext } from '../../graphql/request-loaders.js';
import { NetLoaders } from '../nets/net.loaders.js';
import { NetModel } from '../nets/net.model.js';
import { JobAdmissionLoaders } from './job-admission.loaders.js';
import { JobLoaders } from './job.loaders.js';
import { PendingReason, StartAttemptModel } from './job-admission.model.js';
import { JobStatus } from './job.entity.js';
import { JobModel } from './job.model.js';

/** The admission's side of a job: why it waits, until when, and every try to start it. */
@Resolver(() => JobModel)
export class JobAdmissionResolver {
  @ResolveField(() => PendingReason, { nullable: true, description: 'null unless QUEUED' })
  async pendingReason(@Parent() job: JobModel, @Context() { loaders }: GqlContext): Promise<PendingReason | null> {
    if (job.status !== JobStatus.QUEUED) return null;
    return ((await loaders.of(JobLoaders).queueState.load(job.id))?.pendingReason as PendingReason | null) ?? null;
  }

  @ResolveField(() => String, { nullable: true, description: 'for people: the trusts, nets or times behind pendingReason' })
  async pendingDetail(@Parent() job: JobModel, @Context() { loaders }: GqlContext): Promise<string | null> {
    if (job.status !== JobStatus.QUEUED) return null;
    return (await loaders.of(JobLoaders).queueState.load(job.id))?.pendingDetail ?? null;
  }

  @ResolveField(() => [StartAttemptModel], { description: 'one try to start the job each, oldest first' })
  startAttempts(@Parent() job: JobModel, @Context() { loaders }: GqlContext): Promise<Array<Omit<StartAttemptModel, 'net'>>> {
    return loaders.of(JobAdmissionLoaders).startAttempts.load(job.id);
  }
}

@Resolver(() => StartAttemptModel)
export class StartAttemptResolver {
  @ResolveField(() => NetModel, { nullable: true })
  net(@Parent() attempt: StartAttemptModel, @Context() { loaders }: GqlContext): Promise<NetModel | null> {
    return attempt.netId ? loaders.of(NetLoaders).net.load(attempt.netId) : Promise.resolve(null);
  }
}
