import { Entity, Enum, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt, Rel } from '@mikro-orm/core';
import { FlBackend } from '../../fl-backends/fl-backend.enum.js';
import { SchedulerEntity } from '../schedulers/net-state/scheduler.entity.js';

@Entity({ tableName: 'net' })
export class NetEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ length: 200, unique: true })
  name!: string;

  @Property({ length: 2048, unique: true })
  endpoint!: string;

  @Enum({ items: () => FlBackend })
  flBackend!: FlBackend;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  /** takes no new job (its running job finishes) */
  @Property({ type: 'boolean', default: false })
  drained: boolean & Opt = false;

  /** when an instance last took this net's client-status refresh (the compare-and-set that keeps instances from all polling) */
  @Property({ type: 'timestamptz', nullable: true })
  clientsPolledAt?: Date | null;

  /** calls that failed in a row; a net with any takes no job until a probe (check_server_status) answers */
  @Property({ type: 'integer', default: 0, check: 'failed_calls >= 0' })
  failedCalls: number & Opt = 0;

  /** when the next probe of a failed net is due */
  @Property({ type: 'timestamptz', nullable: true })
  retryAt?: Date | null;

  @OneToOne(() => SchedulerEntity, (s) => s.net, { nullable: true })
  scheduler?: Rel<SchedulerEntity>;
}
