import type { Rel } from '@mikro-orm/core';
import { Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { TrustEntity } from './trust.entity.js';

/** A provisioned FL kit: its name is the participant identity on the net (NVFLARE cert CN / Flower node). */
@Entity({ tableName: 'kit_slot' })
export class KitSlotEntity {
  @PrimaryKey({ length: 200 })
  slotName!: string;

  @Property({ type: 'integer', unique: true })
  slotNumber!: number;

  @OneToOne(() => TrustEntity, { owner: true, nullable: true, unique: true })
  assignedTrust?: Rel<TrustEntity> | null;

  @Property({ type: 'timestamptz', nullable: true })
  assignedAt?: Date | null;
}
