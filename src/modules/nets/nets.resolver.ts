import { Inject } from '@nestjs/common';
import { Args, Context, ID, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { notFound } from '../../common/errors.js';
import { Allow, READERS } from '../../common/auth/roles.js';
import { UuidPipe } from '../../common/uuid.pipe.js';
import type { GqlContext } from '../../graphql/loaders.js';
import { preload } from '../../graphql/preloaded-fields.js';
import { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import { simNetNames } from '../../sim-nets/sim-nets.js';
import { SchedulerModel } from '../schedulers/scheduler.model.js';
import { NetModel } from './net.model.js';
import { NetsService } from './nets.service.js';

@Resolver(() => NetModel)
export class NetsResolver {
  /** the nets this hub simulates itself (SIM_NETS) */
  private readonly simulatedNames: ReadonlySet<string>;

  constructor(
    private readonly netsService: NetsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.simulatedNames = new Set(simNetNames(config.simNets));
  }

  @Allow(...READERS)
  @Query(() => [NetModel], { description: 'every net; NOT_FOUND when none is registered' })
  async nets(@Context() { loaders }: GqlContext): Promise<NetModel[]> {
    const rows = await this.netsService.getNetsWithSchedulers();
    for (const { net, scheduler, job } of rows) {
      loaders.schedulerByNet.prime(net.id, scheduler);
      if (job) loaders.job.prime(job.id, job);
    }
    // the nested fields are answered from these rows, without a resolver call each
    return rows.map(({ net, scheduler, job }) => preload(net, { scheduler: preload(scheduler, { job }) }));
  }

  @Allow(...READERS)
  @Query(() => NetModel, { nullable: true })
  netByName(@Args('name') name: string): Promise<NetModel | null> {
    return this.netsService.getNetByName(name);
  }

  @Allow(...READERS)
  @Query(() => NetModel, { description: "the net the model's current job runs on; NOT_FOUND when none" })
  netByModel(@Args('modelId', { type: () => ID }, UuidPipe) modelId: string): Promise<NetModel> {
    return this.netsService.getNetByModelId(modelId);
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

  @ResolveField(() => Boolean, { description: 'a simulated net started inside the hub for a first run (SIM_NETS)' })
  simulated(@Parent() net: NetModel): boolean {
    return this.simulatedNames.has(net.name);
  }
}
