import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { Allow, READERS } from '../../common/auth/roles.js';
import { NetScope, ProjectScope, ReadScope, Reporter } from '../../common/auth/scopes.js';
import { notFound } from '../../common/errors.js';
import { LiveUpdates, SCHEDULER_UPDATED } from '../../events/live-updates.js';
import { UuidListPipe, UuidPipe } from '../../common/uuid.pipe.js';
import type { GqlContext } from '../../graphql/request-loaders.js';
import { JobLoaders } from '../jobs/job.loaders.js';
import { NetLoaders } from '../nets/net.loaders.js';
import { visibleJob } from '../jobs/visible-job.js';
import { JobModel } from '../jobs/job.model.js';
import { NetModel } from '../nets/net.model.js';
import { NetStateService } from './net-state/net-state.service.js';
import { ClaimService } from './picking-up/claim.service.js';
import { DeploymentStatusModel, PickupCycleResultModel } from './pickup.model.js';
import { PickupService } from './picking-up/pickup.service.js';
import { RunControlService } from './running/run-control.service.js';
import { SchedulerModel } from './net-state/scheduler.model.js';
import { TrainingService } from './running/training.service.js';

@Resolver(() => SchedulerModel)
export class SchedulersResolver {
  constructor(
    private readonly netState: NetStateService,
    private readonly claims: ClaimService,
    private readonly training: TrainingService,
    private readonly pickup: PickupService,
    private readonly runControl: RunControlService,
    private readonly live: LiveUpdates,
  ) {}

  @Allow(...READERS)
  @Query(() => [SchedulerModel])
  schedulers(): Promise<SchedulerModel[]> {
    return this.netState.listSchedulers();
  }

  @Allow()
  @Mutation(() => SchedulerModel, { nullable: true, description: 'claims one AVAILABLE net (held by a lease), or null' })
  claimAvailableNet(): Promise<SchedulerModel | null> {
    return this.claims.checkForAvailableNet();
  }

  @Allow()
  @Mutation(() => JobModel, { nullable: true, description: 'for a claimed net, claims the oldest valid QUEUED job, or null' })
  async claimQueuedJob(@Args('schedulerId', { type: () => ID }, UuidPipe) schedulerId: string): Promise<JobModel | null> {
    return (await this.claims.checkForQueuedJobs(schedulerId))?.job ?? null;
  }

  @Allow()
  @Mutation(() => SchedulerModel)
  revertSchedulerPickup(@Args('schedulerId', { type: () => ID }, UuidPipe) schedulerId: string): Promise<SchedulerModel> {
    return this.claims.revertSchedulerPickup(schedulerId);
  }

  @Allow()
  @Mutation(() => JobModel, {
    description: 'starts a claimed job on its net; on failure the job is removed and the model set to ERROR',
  })
  startTraining(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @Args('jobId', { type: () => ID }, UuidPipe) jobId: string,
    @Args('trustIds', { type: () => [ID] }, UuidListPipe) trustIds: string[],
  ): Promise<JobModel> {
    return this.training.startTraining(modelId, jobId, trustIds);
  }

  @Allow('net')
  @Mutation(() => JobModel, { nullable: true, description: "the model's running job → COMPLETED, its net → AVAILABLE" })
  completeTraining(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @Reporter() reporter: NetScope,
  ): Promise<JobModel | null> {
    return this.runControl.updateFlScheduler(modelId, reporter);
  }

  @Allow()
  @Mutation(() => PickupCycleResultModel, { description: 'runs one pickup cycle now' })
  runPickupCycle(): Promise<PickupCycleResultModel> {
    return this.pickup.runPickupCycle();
  }

  @Allow(...READERS)
  @Query(() => DeploymentStatusModel, { description: 'whether pickup is paused for a deployment, with every net' })
  async deploymentStatus(): Promise<DeploymentStatusModel> {
    return this.runControl.getDeploymentMode();
  }

  @Allow()
  @Mutation(() => DeploymentStatusModel, {
    description: 'on: running jobs finish, nothing new is picked up; off: pickup resumes',
  })
  async setDeploymentMode(@Args('enabled') enabled: boolean): Promise<DeploymentStatusModel> {
    return this.runControl.setDeploymentMode(enabled);
  }

  @Allow(...READERS)
  @Subscription(() => SchedulerModel, { description: "each change of a net's scheduler (AVAILABLE/BUSY, its job)" })
  schedulerUpdated(): AsyncIterableIterator<unknown> {
    return this.live.pubSub.asyncIterableIterator(SCHEDULER_UPDATED);
  }

  @ResolveField(() => NetModel)
  async net(@Parent() scheduler: SchedulerModel, @Context() { loaders }: GqlContext): Promise<NetModel> {
    const net = await loaders.of(NetLoaders).net.load(scheduler.netId);
    if (!net) throw notFound('Net', scheduler.netId);
    return net;
  }

  /** null as well when the job's project is hidden from the caller: the net still shows BUSY */
  @ResolveField(() => JobModel, { nullable: true })
  async job(
    @Parent() scheduler: SchedulerModel,
    @Context() { loaders }: GqlContext,
    @ReadScope() scope: ProjectScope,
  ): Promise<JobModel | null> {
    return scheduler.jobId ? visibleJob(loaders, scope, await loaders.of(JobLoaders).job.load(scheduler.jobId)) : null;
  }
}
