import { Injectable } from '@nestjs/common';
import { batchLoader, byKey, type LoaderSet } from '../../graphql/request-loaders.js';
import type { JobModel } from './job.model.js';
import type { QueuedJobRow } from './queue-state.sql.js';
import { JobsService } from './jobs.service.js';

@Injectable()
export class JobLoaders implements LoaderSet {
  constructor(private readonly jobs: JobsService) {}

  create(options: { cache: boolean }) {
    return {
      job: batchLoader<JobModel | null>(async (ids) => byKey(await this.jobs.listJobsByIds(ids), 'id', ids), options),
      /** each job with its place in the queue and why it waits, one statement for all the jobs asked (one snapshot) */
      queueState: batchLoader<QueuedJobRow | null>(async (ids) => byKey(await this.jobs.listJobsByIds(ids), 'id', ids), options),
    };
  }
}
