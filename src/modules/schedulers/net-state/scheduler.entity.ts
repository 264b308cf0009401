import { Entity, Enum, ManyToOne, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt, Rel } from '@mikro-orm/core';
import { JobEntity } from '../../jobs/job.entity.js';
import { NetEntity } from '../../nets/net.entity.js';

export enum SchedulerStatus {
  AVAILABLE = 'AVAILABLE',
  BUSY = 'BUSY',
}

@Entity({ tableName: 'scheduler' })
export class SchedulerEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @OneToOne(() => NetEntity, { owner: true, unique: true, deleteRule: 'cascade' })
  net!: Rel<NetEntity>;

  @Enum({ items: () => SchedulerStatus })
  status: SchedulerStatus & Opt = SchedulerStatus.AVAILABLE;

  @ManyToOne(() => JobEntity, { nullable: true, unique: true })
  job?: Rel<JobEntity> | null;

  @Property({ type: 'timestamptz', nullable: true })
  leaseUntil?: Date | null;

  @Property({ type: 'boolean', default: false })
  sweepPending: boolean & Opt = false;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();
}
