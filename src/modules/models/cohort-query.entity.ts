import type { Opt, Rel } from '@mikro-orm/core';
import { Check, Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { ProjectEntity } from './project.entity.js';

@Entity({ tableName: 'cohort_query' })
@Check({ name: 'cohort_query_length_check', expression: 'length(query) >= 1 and length(query) <= 65536' })
@Index({ name: 'cohort_query_latest_idx', columns: [{ name: 'project_id' }, { name: 'seq', sort: 'desc' }] })
export class CohortQueryEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @ManyToOne(() => ProjectEntity, { foreignKeyName: 'cohort_query_project_id_fkey' })
  project!: Rel<ProjectEntity>;

  @Property({ length: 200 })
  name!: string;

  @Property({ type: 'text' })
  query!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'clock_timestamp()' })
  createdAt!: Date & Opt;

  /** Creation order; the latest cohort query of a project is the one with the highest seq. */
  @Property({ type: 'bigint', generated: 'identity', autoincrement: true })
  seq!: string & Opt;
}
