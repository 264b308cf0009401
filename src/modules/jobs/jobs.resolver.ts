import { Inject } from '@nestjs/common';
import { Args, Context, ID, Info, Int, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { selectsAnyOf } from '../../graphql/selection.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { Allow, READERS } from '../../common/auth/roles.js';
import { ActScope, principalOf, ProjectScope, ReadScope } from '../../common/auth/scopes.js';
import { notFound } from '../../common/errors.js';
import { JOB_UPDATED, LiveUpdates } from '../../events/live-updates.js';
import { UuidListPipe, UuidPipe } from '../../common/uuid.pipe.js';
import type { GqlContext } from '../../graphql/request-loaders.js';
import { ModelLoaders } from '../models/model.loaders.js';
import { NetLoaders } from '../nets/net.loaders.js';
import { TrustLoaders } from '../trusts/trust.loaders.js';
import { JobLoaders } from './job.loaders.js';
import { visibleJob } from './visible-job.js';
import { TrainingModel } from '../models/models.model.js';
import { NetModel } from '../nets/net.model.js';
import { TrustModel } from '../trusts/trust.model.js';
import { JobPriority, JobStatus } from './job.entity.js';
import { QueueOptionsInput, toJobRequest } from './job.inputs.js';
import { JobModel } from './job.model.js';
import { JobsService, MAX_JOBS_PAGE } from './jobs.service.js';

/** The fields the queue state answers: read with the rows when asked for, else not at all. */
const asksQueueState = (info: GraphQLResolveInfo) => selectsAnyOf(info, ['queuePosition', 'pendingReason', 'pendingDetail']);

@Resolver(() => JobModel)
export class JobsResolver {
  constructor(
    private readonly jobsService: JobsService,
    private readonly live: LiveUpdates,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Allow(...READERS)
  @Query(() => JobModel, { nullable: true })
  job(
    @Args('id', { type: () => ID }, UuidPipe) id: string,
    @ReadScope() scope: ProjectScope,
    @Info() info: GraphQLResolveInfo,
  ): Promise<JobModel | null> {
    return this.jobsService.getJob(id, scope, asksQueueState(info));
  }

  @Allow(...READERS)
  @Query(() => [JobModel], { description: 'oldest first' })
  jobs(
    @ReadScope() scope: ProjectScope,
    @Args('status', { type: () => JobStatus, nullable: true }) status?: JobStatus | null,
    @Args('modelId', { type: () => ID, nullable: true }, UuidPipe) modelId?: string | null,
    @Args('first', { type: () => Int, nullable: true, description: `at most this many (1–${MAX_JOBS_PAGE}, the default)` })
    first?: number | null,
    @Args('after', { type: () => ID, nullable: true, description: 'only jobs queued after this one' }, UuidPipe)
    after?: string | null,
    @Info() info?: GraphQLResolveInfo,
  ): Promise<JobModel[]> {
    return this.jobsService.listJobs({ status, modelId, first, after }, scope, info ? asksQueueState(info) : true);
  }

  @Allow('researcher')
  @Mutation(() => JobModel, { description: 'CONFLICT when the model already has a QUEUED or IN_PROGRESS job' })
  queueTraining(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @Args('trustIds', { type: () => [ID] }, UuidListPipe) trustIds: string[],
    @ActScope() scope: ProjectScope,
    @Args('options', { type: () => QueueOptionsInput, nullable: true }) options?: QueueOptionsInput | null,
    @Info() info?: GraphQLResolveInfo,
  ): Promise<JobModel> {
    return this.jobsService.queueTraining(modelId, trustIds, toJobRequest(options), scope, info ? asksQueueState(info) : true);
  }

  @Allow('researcher')
  @Mutation(() => JobModel, { description: "a QUEUED job's priority (else CONFLICT)" })
  setJobPriority(
    @Args('jobId', { type: () => ID }, UuidPipe) jobId: string,
    @Args('priority', { type: () => JobPriority }) priority: JobPriority,
    @ActScope() scope: ProjectScope,
    @Info() info?: GraphQLResolveInfo,
  ): Promise<JobModel> {
    return this.jobsService.setJobPriority(jobId, priority, scope, info ? asksQueueState(info) : true);
  }

  @Allow(...READERS)
  @Subscription(() => JobModel, {
    description: "each change of a job's state, in order, optionally only the jobs of one model",
    // a researcher hears only its own projects' jobs
    filter: async (payload: { jobUpdated: JobModel }, variables: { modelId?: string | null }, context: GqlContext) =>
      (!variables.modelId || payload.jobUpdated.modelId === variables.modelId) &&
      (await visibleJob(context.loaders, ProjectScope.forReading(principalOf(context)), payload.jobUpdated)) !== null,
  })
  jobUpdated(
    @Args('modelId', { type: () => ID, nullable: true }, UuidPipe) _modelId?: string | null,
  ): AsyncIterableIterator<unknown> {
    return this.live.pubSub.asyncIterableIterator(JOB_UPDATED);
  }

  @ResolveField(() => TrainingModel)
  async model(@Parent() job: JobModel, @Context() { loaders }: GqlContext): Promise<TrainingModel> {
    const model = await loaders.of(ModelLoaders).model.load(job.modelId);
    if (!model) throw notFound('Model', job.modelId);
    return model;
  }

  @ResolveField(() => [TrustModel])
  trusts(@Parent() job: JobModel, @Context() { loaders }: GqlContext): Promise<TrustModel[]> {
    return loaders.of(TrustLoaders).trustsByJob.load(job.id);
  }

  @ResolveField(() => NetModel, { nullable: true })
  net(@Parent() job: JobModel, @Context() { loaders }: GqlContext): Promise<NetModel | null> {
    return job.netId ? loaders.of(NetLoaders).net.load(job.netId) : Promise.resolve(null);
  }

  @ResolveField(() => Int, {
    nullable: true,
    description:
      "the run-time limit in seconds: the job's own (queueTraining options), else the hub's MAX_RUNTIME_S; null when neither limits it (0 means no limit)",
  })
  maxRuntimeSeconds(@Parent() job: JobModel): number | null {
    const limit = job.maxRuntimeS ?? this.config.maxRuntimeSeconds;
    return limit > 0 ? limit : null;
  }

  @ResolveField(() => Int, {
    nullable: true,
    description: '1-based place in the dispatch order while QUEUED (1: next to start), else null',
  })
  queuePosition(@Parent() job: JobModel, @Context() { loaders }: GqlContext): Promise<number | null> {
    return job.status === JobStatus.QUEUED
      ? loaders
          .of(JobLoaders)
          .queueState.load(job.id)
          .then((row) => row?.queuePosition ?? null)
      : Promise.resolve(null);
  }
}
