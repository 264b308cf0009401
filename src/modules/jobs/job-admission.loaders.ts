import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { query, sql } from '../../database/sql.js';
import { batchLoader, groupedBy, type LoaderSet } from '../../graphql/request-loaders.js';
import type { StartAttemptModel } from './job-admission.model.js';

type AttemptRow = Omit<StartAttemptModel, 'net'>;

/** Per request: each job's start attempts (one statement for all the jobs asked). */
@Injectable()
export class JobAdmissionLoaders implements LoaderSet {
  constructor(
    private readonly em: EntityManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  create(options: { cache: boolean }) {
    return {
      startAttempts: batchLoader<AttemptRow[]>(
        async (ids) =>
          groupedBy(
            await query<AttemptRow>(
              this.em.fork(),
              sql`select a.job_id as "jobId", a.net_id as "netId", a.at, a.outcome, a.detail
                  from start_attempt a where a.job_id = any(${ids}::uuid[]) order by a.job_id, a.seq`,
            ),
            'jobId',
            ids,
          ),
        options,
      ),
    };
  }
}
