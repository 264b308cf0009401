import type { Opt, Rel } from '@mikro-orm/core';
import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { NetEntity } from '../nets/net.entity.js';
import { JobEntity } from './job.entity.js';
import { StartOutcome } from './lifecycle/states.js';

export { StartOutcome };

/**
 * One try to start a job, written in the same statement as the state change
 * it records. At most one per claim (`claimToken`): a retried write, or lease
 * recovery after the claiming instance died, never records a try twice.
 */
@Entity({ tableName: 'start_attempt' })
@Index({ name: 'start_attempt_job_idx', properties: ['job', 'seq'] })
@Unique({ name: 'start_attempt_one_per_claim', properties: ['claimToken'], where: 'claim_token is not null' })
export class StartAttemptEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  /** the order of the attempts */
  @Property({ type: 'bigint', generated: 'identity', autoincrement: true, unique: 'start_attempt_seq_unique' })
  seq!: string & Opt;

  @ManyToOne(() => JobEntity, { deleteRule: 'cascade', foreignKeyName: 'start_attempt_job_id_fkey' })
  job!: Rel<JobEntity>;

  @ManyToOne(() => NetEntity, { nullable: true, deleteRule: 'set null', foreignKeyName: 'start_attempt_net_id_fkey' })
  net?: Rel<NetEntity> | null;

  /** the claim this attempt belongs to */
  @Property({ type: 'uuid', nullable: true })
  claimToken?: string | null;

  @Property({ type: 'timestamptz', defaultRaw: 'clock_timestamp()' })
  at!: Date & Opt;

  @Enum({ items: () => StartOutcome })
  outcome!: StartOutcome;

  /** what the net said, or which clients were offline */
  @Property({ type: 'text', nullable: true })
  detail?: string | null;
}
