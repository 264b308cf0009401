import type { Opt } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'trust' })
export class TrustEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  /** Display name; may change. The FL identity is the kit slot's name. */
  @Property({ length: 200, unique: true })
  name!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  /** Jobs naming this trust that may be IN_PROGRESS at once, on all nets together; null: no limit. */
  @Property({ type: 'integer', nullable: true, check: 'max_concurrent_jobs >= 0' })
  maxConcurrentJobs?: number | null;

  /** On hold (a maintenance window): jobs naming it wait (TRUST_HELD); running ones go on. */
  @Property({ default: false })
  onHold: boolean & Opt = false;

  /** When the hold ends by itself; null: held until released. */
  @Property({ type: 'timestamptz', nullable: true })
  holdUntil?: Date | null;
}
