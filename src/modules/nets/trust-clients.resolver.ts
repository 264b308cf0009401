import { Context, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import type { GqlContext } from '../../graphql/request-loaders.js';
import { TrustModel } from '../trusts/trust.model.js';
import { NetLoaders } from './net.loaders.js';
import { TrustClientModel } from './trust-client.model.js';

/** `Trust.clients`: what each net last said of the trust's FL client — the nets know it, so the field lives here. */
@Resolver(() => TrustModel)
export class TrustClientsResolver {
  @ResolveField(() => [TrustClientModel], {
    description: "the trust's kit slot on every net (none without a slot); a net that never reported it: offline",
  })
  clients(@Parent() trust: TrustModel, @Context() { loaders }: GqlContext): Promise<TrustClientModel[]> {
    return trust.slotName === null ? Promise.resolve([]) : loaders.of(NetLoaders).clientsBySlot.load(trust.slotName);
  }
}
