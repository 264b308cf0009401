import { Injectable } from '@nestjs/common';
import { batchLoader, groupedBy, type LoaderSet } from '../../graphql/request-loaders.js';
import type { TrustModel } from './trust.model.js';
import { TrustsService } from './trusts.service.js';

@Injectable()
export class TrustLoaders implements LoaderSet {
  constructor(private readonly trusts: TrustsService) {}

  create(options: { cache: boolean }) {
    return {
      trustsByJob: batchLoader<TrustModel[]>(
        async (ids) => groupedBy(await this.trusts.trustsByJobIds(ids), 'jobId', ids),
        options,
      ),
      approvedTrustsByModel: batchLoader<TrustModel[]>(
        async (ids) => groupedBy(await this.trusts.approvedTrustsByModelIds(ids), 'modelId', ids),
        options,
      ),
    };
  }
}
