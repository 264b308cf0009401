import { Collection, type Opt, type Rel } from '@mikro-orm/core';
import { Entity, Enum, ManyToMany, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { TrustEntity } from '../trusts/trust.entity.js';
import { ModelStatus } from './model-status.js';
import { ProjectEntity } from './project.entity.js';

@Entity({ tableName: 'model' })
export class ModelEntity {
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ length: 200 })
  name!: string;

  @ManyToOne(() => ProjectEntity)
  project!: Rel<ProjectEntity>;

  @Enum({ items: () => ModelStatus })
  status: ModelStatus & Opt = ModelStatus.PENDING;

  @ManyToMany(() => TrustEntity, undefined, {
    pivotTable: 'model_approved_trust',
    joinColumn: 'model_id',
    inverseJoinColumn: 'trust_id',
  })
  approvedTrusts = new Collection<TrustEntity>(this);

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date & Opt = new Date();
}
