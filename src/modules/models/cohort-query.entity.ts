import type { Opt, Rel } from '@mikro-orm/core';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { ProjectEntity } from './project.entity.js';

@Entity({ tableName: 'cohort_query' })
export class CohortQueryEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @ManyToOne(() => ProjectEntity)
  project!: Rel<ProjectEntity>;

  @Property({ length: 200 })
  name!: string;

  @Property({ type: 'text' })
  query!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'clock_timestamp()' })
  createdAt!: Date & Opt;

  /** Creation order; the latest cohort query of a project is the one with the highest seq. */
  @Property({ type: 'bigint', persist: false, nullable: true })
  seq?: string & Opt;
}
