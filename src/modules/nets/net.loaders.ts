import { Injectable } from '@nestjs/common';
import { batchLoader, byKey, type LoaderSet } from '../../graphql/request-loaders.js';
import type { NetModel } from './net.model.js';
import { NetsService } from './nets.service.js';

@Injectable()
export class NetLoaders implements LoaderSet {
  constructor(private readonly nets: NetsService) {}

  create(options: { cache: boolean }) {
    return {
      net: batchLoader<NetModel | null>(async (ids) => byKey(await this.nets.netsByIds(ids), 'id', ids), options),
    };
  }
}
