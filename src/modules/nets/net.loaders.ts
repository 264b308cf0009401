import { Injectable } from '@nestjs/common';
import { batchLoader, byKey, groupedBy, type LoaderSet } from '../../graphql/request-loaders.js';
import type { NetModel } from './net.model.js';
import type { TrustClientModel } from './trust-client.model.js';
import { NetsService } from './nets.service.js';

@Injectable()
export class NetLoaders implements LoaderSet {
  constructor(private readonly nets: NetsService) {}

  create(options: { cache: boolean }) {
    return {
      net: batchLoader<NetModel | null>(async (ids) => byKey(await this.nets.netsByIds(ids), 'id', ids), options),
      /** by kit slot name: that client on every net */
      clientsBySlot: batchLoader<TrustClientModel[]>(
        async (slots) => groupedBy(await this.nets.clientsBySlotNames(slots), 'slotName', slots),
        options,
      ),
    };
  }
}
