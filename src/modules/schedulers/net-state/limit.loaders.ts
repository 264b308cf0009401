import { Injectable } from '@nestjs/common';
import { batchLoader, type LoaderSet } from '../../../graphql/request-loaders.js';
import { LimitsService } from './limits.service.js';

/** `Trust.runningJobs` and `Project.runningJobs`: one statement per field per request. */
@Injectable()
export class LimitLoaders implements LoaderSet {
  constructor(private readonly limits: LimitsService) {}

  create(options: { cache: boolean }) {
    return {
      runningJobsOfTrust: batchLoader<number>((ids) => this.limits.runningJobsByTrustIds(ids), options),
      runningJobsOfProject: batchLoader<number>((ids) => this.limits.runningJobsByProjectIds(ids), options),
    };
  }
}
