import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { query, sql } from '../../database/sql.js';
import { batchLoader, byKey, groupedBy, type LoaderSet } from '../../graphql/request-loaders.js';
import { pendingStatement, type PendingRow } from './admission.sql.js';
import type { StartAttemptModel } from './job-admission.model.js';

type AttemptRow = Omit<StartAttemptModel, 'net'>;

/** Per request: each job's pending state (one statement for all the jobs asked) and start attempts (one more). */
@Injectable()
export class JobAdmissionLoaders implements LoaderSet {
  constructor(
    private readonly em: EntityManager,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  create(options: { cache: boolean }) {
    return {
      pending: batchLoader<PendingRow | null>(
        async (ids) => byKey(await query(this.em.fork(), pendingStatement(this.config, ids)), 'id', ids),
        options,
      ),
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
