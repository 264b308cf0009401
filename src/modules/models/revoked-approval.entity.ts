import type { Opt } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * A (model, trust) pair whose approval was removed and not given back: kept by
 * the `revoked_approval_kept` trigger on `model_approved_trust` (migration
 * 20261201105000), read by the retirement of queued jobs naming a trust no
 * longer approved. No foreign keys: the trigger adds rows while approvals go.
 */
@Entity({ tableName: 'revoked_approval' })
export class RevokedApprovalEntity {
  @PrimaryKey({ type: 'uuid' })
  modelId!: string;

  @PrimaryKey({ type: 'uuid' })
  trustId!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  revokedAt: Date & Opt = new Date();
}
