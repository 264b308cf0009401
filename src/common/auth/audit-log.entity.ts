import type { Opt } from '@mikro-orm/core';
import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** One row per mutation call (written by AuditInterceptor with SQL; the entity describes the table). */
@Entity({ tableName: 'audit_log' })
@Index({ name: 'audit_log_at_idx', columns: [{ name: 'at', sort: 'desc' }] })
export class AuditLogEntity {
  @PrimaryKey({ type: 'bigint', generated: 'identity' })
  id!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'clock_timestamp()' })
  at!: Date & Opt;

  @Property({ length: 200 })
  actor!: string;

  @Property({ type: 'text[]' })
  roles!: string[];

  @Property({ length: 100 })
  operation!: string;

  @Property({ type: 'jsonb' })
  target!: unknown;

  @Enum({ items: ['OK', 'ERROR'] })
  outcome!: 'OK' | 'ERROR';

  @Property({ length: 50, nullable: true })
  errorCode?: string | null;
}
