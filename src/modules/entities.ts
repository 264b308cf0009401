import { AuditLogEntity } from '../common/auth/audit-log.entity.js';
import { JobTrustEntity } from './jobs/job-trust.entity.js';
import { JobEntity } from './jobs/job.entity.js';
import { StartAttemptEntity } from './jobs/start-attempt.entity.js';
import { CohortQueryEntity } from './models/cohort-query.entity.js';
import { ModelApprovedTrustEntity } from './models/model-approved-trust.entity.js';
import { ModelEntity } from './models/model.entity.js';
import { ProjectEntity } from './models/project.entity.js';
import { RevokedApprovalEntity } from './models/revoked-approval.entity.js';
import { NetClientEntity } from './nets/net-client.entity.js';
import { NetEntity } from './nets/net.entity.js';
import { HubSettingEntity } from './schedulers/net-state/hub-setting.entity.js';
import { SchedulerEntity } from './schedulers/net-state/scheduler.entity.js';
import { KitSlotEntity } from './trusts/kit-slot.entity.js';
import { TrustEntity } from './trusts/trust.entity.js';

/**
 * Every entity, listed explicitly: no folder discovery at run time. Together
 * they describe the whole schema; test/integration/schema.int-spec.ts proves
 * the migrations build exactly it.
 */
export const entities = [
  NetEntity,
  NetClientEntity,
  SchedulerEntity,
  JobEntity,
  TrustEntity,
  KitSlotEntity,
  ProjectEntity,
  ModelEntity,
  CohortQueryEntity,
  JobTrustEntity,
  StartAttemptEntity,
  ModelApprovedTrustEntity,
  RevokedApprovalEntity,
  HubSettingEntity,
  AuditLogEntity,
];
