import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Allow, READERS } from '../../common/auth/roles.js';
import { UuidListPipe } from '../../common/uuid.pipe.js';
import type { GqlContext } from '../../graphql/loaders.js';
import { CreateTrustInput } from './trusts.inputs.js';
import { TrustClientModel } from './trust-client.model.js';
import { TrustModel, TrustSlotNameModel } from './trust.model.js';
import { TrustsService } from './trusts.service.js';

@Resolver(() => TrustModel)
export class TrustsResolver {
  constructor(private readonly trustsService: TrustsService) {}

  @Allow(...READERS)
  @Query(() => [TrustModel])
  trusts(): Promise<TrustModel[]> {
    return this.trustsService.listTrusts();
  }

  @Allow(...READERS)
  @Query(() => [TrustSlotNameModel], { description: 'trust id → kit slot name; trusts without a slot are absent' })
  trustSlotNames(@Args('trustIds', { type: () => [ID] }, UuidListPipe) trustIds: string[]): Promise<TrustSlotNameModel[]> {
    return this.trustsService.getSlotNamesByTrustIds(trustIds);
  }

  @Allow()
  @Mutation(() => TrustModel, { description: 'creates a trust bound to the lowest free kit slot' })
  createTrust(@Args('input') input: CreateTrustInput): Promise<TrustModel> {
    return this.trustsService.createTrust(input);
  }

  @ResolveField(() => [TrustClientModel], {
    description: "the trust's kit slot on every net (none without a slot); a net that never reported it: offline",
  })
  clients(@Parent() trust: TrustModel, @Context() { loaders }: GqlContext): Promise<TrustClientModel[]> {
    return trust.slotName === null ? Promise.resolve([]) : loaders.clientsBySlot.load(trust.slotName);
  }
}
