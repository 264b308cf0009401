import type { Opt } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** A hub-wide setting shared by every instance (the deployment mode), read and written with SQL. */
@Entity({ tableName: 'hub_setting' })
export class HubSettingEntity {
  @PrimaryKey({ length: 100 })
  key!: string;

  @Property({ type: 'jsonb' })
  value!: unknown;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt!: Date & Opt;
}
