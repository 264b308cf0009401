import { Collection, type Opt, type Rel } from '@mikro-orm/core';
import { Entity, Enum, Index, ManyToMany, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { TrustEntity } from '../trusts/trust.entity.js';
import { ModelApprovedTrustEntity } from './model-approved-trust.entity.js';
import { ModelStatus } from './model-status.js';
import { ProjectEntity } from './project.entity.js';

@Entity({ tableName: 'model' })
@Index({ name: 'model_project_idx', properties: ['project'] })
export class ModelEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ length: 200 })
  name!: string;

  @ManyToOne(() => ProjectEntity, { foreignKeyName: 'model_project_id_fkey' })
  project!: Rel<ProjectEntity>;

  @Enum({ items: () => ModelStatus })
  status: ModelStatus & Opt = ModelStatus.PENDING;

  @ManyToMany({ entity: () => TrustEntity, pivotEntity: () => ModelApprovedTrustEntity })
  approvedTrusts = new Collection<TrustEntity>(this);

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
