import { Inject } from '@nestjs/common';
import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { Allow, READERS } from '../../common/auth/roles.js';
import { ProjectScope, ReadScope } from '../../common/auth/scopes.js';
import { UuidPipe } from '../../common/uuid.pipe.js';
import { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import { simNetNames } from '../../sim-nets/sim-nets.js';
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

  @Allow()
  @Mutation(() => NetModel, { description: 'the net finishes its run and takes no new job' })
  drainNet(@Args('netId', { type: () => ID }, UuidPipe) netId: string): Promise<NetModel> {
    return this.netsService.drainNet(netId);
  }

  @Allow()
  @Mutation(() => NetModel, { description: 'a drained net takes jobs again' })
  resumeNet(@Args('netId', { type: () => ID }, UuidPipe) netId: string): Promise<NetModel> {
    return this.netsService.resumeNet(netId);
  }

  @ResolveField(() => Boolean, { description: 'a simulated net started inside the hub for a first run (SIM_NETS)' })
  simulated(@Parent() net: NetModel): boolean {
    return this.simulatedNames.has(net.name);
  }
}
