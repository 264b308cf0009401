import { Args, Context, ID, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { notFound } from '../../common/errors.js';
import { Allow, READERS } from '../../common/auth/roles.js';
import { ProjectScope, ReadScope } from '../../common/auth/scopes.js';
import { UuidPipe } from '../../common/uuid.pipe.js';
import { type GqlContext, visibleJob } from '../../graphql/loaders.js';
import { preload } from '../../graphql/preloaded-fields.js';
import { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import { SchedulerModel } from '../schedulers/scheduler.model.js';
import { NetModel } from './net.model.js';
import { NetsService } from './nets.service.js';

@Resolver(() => NetModel)
export class NetsResolver {
  constructor(private readonly netsService: NetsService) {}

  @Allow(...READERS)
  @Query(() => [NetModel], { description: 'every net; NOT_FOUND when none is registered' })
  async nets(@Context() { loaders }: GqlContext, @ReadScope() scope: ProjectScope): Promise<NetModel[]> {
    const rows = await this.netsService.getNetsWithSchedulers();
    for (const { net, scheduler, job } of rows) {
      loaders.schedulerByNet.prime(net.id, scheduler);
      if (job) loaders.job.prime(job.id, job);
    }
    const jobs = scope.unrestricted
      ? rows.map(({ job }) => job)
      : await Promise.all(rows.map(({ job }) => visibleJob(loaders, scope, job)));
    // the nested fields are answered from these rows, without a resolver call each; copies, because
    // concurrent requests share the rows (CoalescedRead) and each may see a different job
    return rows.map(({ net, scheduler }, i) => preload({ ...net }, { scheduler: preload({ ...scheduler }, { job: jobs[i] }) }));
  }

  @Allow(...READERS)
  @Query(() => NetModel, { nullable: true })
  netByName(@Args('name') name: string): Promise<NetModel | null> {
    return this.netsService.getNetByName(name);
  }

  @Allow(...READERS)
  @Query(() => NetModel, { description: "the net the model's current job runs on; NOT_FOUND when none" })
  netByModel(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @ReadScope() scope: ProjectScope,
  ): Promise<NetModel> {
    return this.netsService.getNetByModelId(modelId, scope);
  }

  @Allow(...READERS)
  @Query(() => FlBackend, { description: "the given net's FL backend, else any net's" })
  flBackend(@Args('netId', { type: () => ID, nullable: true }, UuidPipe) netId?: string | null): Promise<FlBackend> {
    return this.netsService.resolveBackend(netId);
  }

  @ResolveField(() => SchedulerModel)
  async scheduler(@Parent() net: NetModel, @Context() { loaders }: GqlContext): Promise<SchedulerModel> {
    const scheduler = await loaders.schedulerByNet.load(net.id);
    if (!scheduler) throw notFound('Scheduler of net', net.id);
    return scheduler;
  }
}
