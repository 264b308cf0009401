import { Check, Entity, Enum, Index, ManyToOne, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt, Rel } from '@mikro-orm/core';
import { JobEntity } from '../../jobs/job.entity.js';
import { literal } from '../../jobs/lifecycle/fragments.js';
import { SchedulerStatus } from '../../jobs/lifecycle/states.js';
import { NetEntity } from '../../nets/net.entity.js';

export { SchedulerStatus };

const [AVAILABLE, BUSY] = [SchedulerStatus.AVAILABLE, SchedulerStatus.BUSY].map(literal);

@Entity({ tableName: 'scheduler' })
@Check({
  name: 'scheduler_available_is_free',
  expression: `status <> ${AVAILABLE} or (job_id is null and lease_until is null and not sweep_pending)`,
})
@Check({
  name: 'scheduler_busy_is_held',
  expression: `status <> ${BUSY} or job_id is not null or lease_until is not null`,
})
@Index({ name: 'scheduler_lease_idx', properties: ['leaseUntil'], where: `status = ${BUSY}` })
export class SchedulerEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @OneToOne(() => NetEntity, {
    owner: true,
    unique: 'scheduler_net_unique',
    deleteRule: 'cascade',
    foreignKeyName: 'scheduler_net_id_fkey',
  })
  net!: Rel<NetEntity>;

  @Enum({ items: () => SchedulerStatus })
  status: SchedulerStatus & Opt = SchedulerStatus.AVAILABLE;

  /** its foreign key is (job_id, net_id) → job (id, net_id), from the migration: see test/integration/schema.int-spec.ts */
  @ManyToOne(() => JobEntity, { nullable: true, unique: 'scheduler_job_unique', createForeignKeyConstraint: false })
  job?: Rel<JobEntity> | null;

  @Property({ type: 'timestamptz', nullable: true })
  leaseUntil?: Date | null;

  @Property({ type: 'boolean', default: false })
  sweepPending: boolean & Opt = false;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();
}
