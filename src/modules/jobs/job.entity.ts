import { Collection, type Opt, type Rel } from '@mikro-orm/core';
import { Entity, Enum, ManyToMany, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { ModelEntity } from '../models/model.entity.js';
import { NetEntity } from '../nets/net.entity.js';
import { TrustEntity } from '../trusts/trust.entity.js';

export enum JobStatus {
  QUEUED = 'QUEUED',
  IN_PROGRESS = 'IN_PROGRESS',
  COMPLETED = 'COMPLETED',
  DELETED = 'DELETED',
}

/** How far the start of a claimed job got; decides what lease recovery does. */
export enum StartPhase {
  CLAIMED = 'CLAIMED',
  SUBMITTING = 'SUBMITTING',
  RUNNING = 'RUNNING',
}

@Entity({ tableName: 'job' })
export class JobEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  /** Queue order (FIFO), assigned by the database. */
  @Property({ type: 'bigint', persist: false, nullable: true })
  seq?: string & Opt;

  @ManyToOne(() => ModelEntity)
  model!: Rel<ModelEntity>;

  @Enum({ items: () => JobStatus })
  status: JobStatus & Opt = JobStatus.QUEUED;

  @Property({ type: 'timestamptz', defaultRaw: 'clock_timestamp()' })
  createdAt!: Date & Opt;

  @Property({ type: 'timestamptz', nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  completedAt?: Date | null;

  @ManyToOne(() => NetEntity, { nullable: true })
  net?: Rel<NetEntity> | null;

  @Property({ length: 200, nullable: true })
  backendJobId?: string | null;

  @Property({ type: 'integer', default: 0 })
  attempts: number & Opt = 0;

  @Property({ type: 'uuid', nullable: true })
  claimToken?: string | null;

  @Enum({ items: () => StartPhase, nullable: true })
  startPhase?: StartPhase | null;

  /** the hub instance (its `application_name`) that claimed the job last */
  @Property({ length: 63, nullable: true })
  claimedBy?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  missingSince?: Date | null;

  @ManyToMany(() => TrustEntity, undefined, { pivotTable: 'job_trust', joinColumn: 'job_id', inverseJoinColumn: 'trust_id' })
  trusts = new Collection<TrustEntity>(this);
}
