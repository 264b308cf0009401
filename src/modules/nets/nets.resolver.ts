import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Allow, READERS } from '../../common/auth/roles.js';
import { ProjectScope, ReadScope } from '../../common/auth/scopes.js';
import { UuidPipe } from '../../common/uuid.pipe.js';
import { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import { NetModel } from './net.model.js';
import { NetsService } from './nets.service.js';

@Resolver(() => NetModel)
export class NetsResolver {
  constructor(private readonly netsService: NetsService) {}

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
}
