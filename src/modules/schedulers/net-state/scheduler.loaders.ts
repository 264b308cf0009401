import { Injectable } from '@nestjs/common';
import { batchLoader, byKey, type LoaderSet } from '../../../graphql/request-loaders.js';
import { NetStateService } from './net-state.service.js';
import type { SchedulerModel } from './scheduler.model.js';

@Injectable()
export class SchedulerLoaders implements LoaderSet {
  constructor(private readonly netState: NetStateService) {}

  create(options: { cache: boolean }) {
    return {
      schedulerByNet: batchLoader<SchedulerModel | null>(
        async (ids) => byKey(await this.netState.schedulersByNetIds(ids), 'netId', ids),
        options,
      ),
    };
  }
}
