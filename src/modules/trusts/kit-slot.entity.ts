import type { Rel } from '@mikro-orm/core';
import { Check, Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { TrustEntity } from './trust.entity.js';

/** A provisioned FL kit: its name is the participant identity on the net (NVFLARE cert CN / Flower node). */
@Entity({ tableName: 'kit_slot' })
@Check({ name: 'kit_slot_assignment_check', expression: '(assigned_trust_id is null) = (assigned_at is null)' })
export class KitSlotEntity {
  @PrimaryKey({ length: 200 })
  slotName!: string;

  @Property({ type: 'integer', unique: 'kit_slot_number_unique' })
  slotNumber!: number;

  @OneToOne(() => TrustEntity, {
    owner: true,
    nullable: true,
    unique: 'kit_slot_trust_unique',
    deleteRule: 'no action',
    foreignKeyName: 'kit_slot_assigned_trust_id_fkey',
  })
  assignedTrust?: Rel<TrustEntity> | null;

  @Property({ type: 'timestamptz', nullable: true })
  assignedAt?: Date | null;
}
