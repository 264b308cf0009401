import type { Opt } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'project' })
export class ProjectEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ length: 200 })
  name!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  /** The project's jobs that may be IN_PROGRESS at once; null: no limit. */
  @Property({ type: 'integer', nullable: true, check: 'max_concurrent_jobs >= 0' })
  maxConcurrentJobs?: number | null;

  /** Fair-share weight between projects (SPEC.md "Order"), at least 1. */
  @Property({ type: 'integer', default: 1, check: 'share >= 1' })
  share: number & Opt = 1;
}
