import { Injectable } from '@nestjs/common';
import { batchLoader, byKey, type LoaderSet } from '../../graphql/request-loaders.js';
import type { JobModel } from './job.model.js';
import { JobsService } from './jobs.service.js';

@Injectable()
export class JobLoaders implements LoaderSet {
  constructor(private readonly jobs: JobsService) {}

  create(options: { cache: boolean }) {
    return {
      job: batchLoader<JobModel | null>(async (ids) => byKey(await this.jobs.listJobsByIds(ids), 'id', ids), options),
      queuePosition: batchLoader<number | null>(
        async (ids) => byKey(await this.jobs.listJobsByIds(ids), 'id', ids).map((row) => row?.queuePosition ?? null),
        options,
      ),
    };
  }
}
