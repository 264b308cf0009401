import type { Opt, Rel } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { NetEntity } from './net.entity.js';

/** One FL client (kit slot name, as the net reports it) as its net last reported it. */
@Entity({ tableName: 'net_client' })
@Index({ name: 'net_client_name_idx', properties: ['clientName'] })
export class NetClientEntity {
  @ManyToOne(() => NetEntity, { primary: true, deleteRule: 'cascade', foreignKeyName: 'net_client_net_id_fkey' })
  net!: Rel<NetEntity>;

  @PrimaryKey({ type: 'text' })
  clientName!: string;

  /** by the net's backend policy; false also when the net could not be asked */
  @Property({ type: 'boolean' })
  online!: boolean;

  /** the net's last_connect_time, else when the hub last saw the client online */
  @Property({ type: 'timestamptz', nullable: true })
  lastSeen?: Date | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  checkedAt: Date & Opt = new Date();
}
