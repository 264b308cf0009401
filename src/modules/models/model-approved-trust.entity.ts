import type { Rel } from '@mikro-orm/core';
import { Entity, Index, ManyToOne } from '@mikro-orm/decorators/legacy';
import { TrustEntity } from '../trusts/trust.entity.js';
import { ModelEntity } from './model.entity.js';

/** The trusts approved to train a model. */
@Entity({ tableName: 'model_approved_trust' })
@Index({ name: 'model_approved_trust_trust_idx', properties: ['trust'] })
export class ModelApprovedTrustEntity {
  @ManyToOne(() => ModelEntity, {
    primary: true,
    deleteRule: 'cascade',
    updateRule: 'no action',
    foreignKeyName: 'model_approved_trust_model_id_fkey',
  })
  model!: Rel<ModelEntity>;

  @ManyToOne(() => TrustEntity, {
    primary: true,
    deleteRule: 'cascade',
    updateRule: 'no action',
    foreignKeyName: 'model_approved_trust_trust_id_fkey',
  })
  trust!: Rel<TrustEntity>;
}
