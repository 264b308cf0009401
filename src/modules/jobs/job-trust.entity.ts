import type { Rel } from '@mikro-orm/core';
import { Entity, Index, ManyToOne } from '@mikro-orm/decorators/legacy';
import { TrustEntity } from '../trusts/trust.entity.js';
import { JobEntity } from './job.entity.js';

/** The trusts a job trains with; a trust that has been in a job cannot be deleted. */
@Entity({ tableName: 'job_trust' })
@Index({ name: 'job_trust_trust_idx', properties: ['trust'] })
export class JobTrustEntity {
  @ManyToOne(() => JobEntity, {
    primary: true,
    deleteRule: 'cascade',
    updateRule: 'no action',
    foreignKeyName: 'job_trust_job_id_fkey',
  })
  job!: Rel<JobEntity>;

  @ManyToOne(() => TrustEntity, {
    primary: true,
    deleteRule: 'no action',
    updateRule: 'no action',
    foreignKeyName: 'job_trust_trust_id_fkey',
  })
  trust!: Rel<TrustEntity>;
}
