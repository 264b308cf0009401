import { Context, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Allow, READERS } from '../../common/auth/roles.js';
import { ProjectScope, ReadScope } from '../../common/auth/scopes.js';
import { notFound } from '../../common/errors.js';
import { preload } from '../../graphql/preloaded-fields.js';
import type { GqlContext } from '../../graphql/request-loaders.js';
import { JobLoaders } from '../jobs/job.loaders.js';
import { visibleJob } from '../jobs/visible-job.js';
import { NetModel } from '../nets/net.model.js';
import { NetStateService } from './net-state/net-state.service.js';
import { SchedulerLoaders } from './net-state/scheduler.loaders.js';
import { SchedulerModel } from './net-state/scheduler.model.js';

/** A net's state: `nets` (get_nets) with each net's scheduler and job, and `Net.scheduler`. */
@Resolver(() => NetModel)
export class NetStateResolver {
  constructor(private readonly netState: NetStateService) {}

  @Allow(...READERS)
  @Query(() => [NetModel], { description: 'every net; NOT_FOUND when none is registered' })
  async nets(@Context() { loaders }: GqlContext, @ReadScope() scope: ProjectScope): Promise<NetModel[]> {
    const rows = await this.netState.getNetsWithSchedulers();
    const schedulers = loaders.of(SchedulerLoaders).schedulerByNet;
    const jobs = loaders.of(JobLoaders).job;
    for (const { net, scheduler, job } of rows) {
      schedulers.prime(net.id, scheduler);
      if (job) jobs.prime(job.id, job);
    }
    const visible = scope.unrestricted
      ? rows.map(({ job }) => job)
      : await Promise.all(rows.map(({ job }) => visibleJob(loaders, scope, job)));
    // the nested fields are answered from these rows, without a resolver call each; copies, because
    // concurrent requests share the rows (CoalescedRead) and each may see a different job
    return rows.map(({ net, scheduler }, i) =>
      preload({ ...net }, { scheduler: preload({ ...scheduler }, { job: visible[i] }) }),
    );
  }

  @ResolveField(() => SchedulerModel)
  async scheduler(@Parent() net: NetModel, @Context() { loaders }: GqlContext): Promise<SchedulerModel> {
    const scheduler = await loaders.of(SchedulerLoaders).schedulerByNet.load(net.id);
    if (!scheduler) throw notFound('Scheduler of net', net.id);
    return scheduler;
  }
}
