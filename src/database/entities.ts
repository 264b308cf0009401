import { AuditLogEntity } from '../common/auth/audit-log.entity.js';
import { JobTrustEntity } from '../modules/jobs/job-trust.entity.js';
import { JobEntity } from '../modules/jobs/job.entity.js';
import { CohortQueryEntity } from '../modules/models/cohort-query.entity.js';
import { ModelApprovedTrustEntity } from '../modules/models/model-approved-trust.entity.js';
import { ModelEntity } from '../modules/models/model.entity.js';
import { ProjectEntity } from '../modules/models/project.entity.js';
import { NetEntity } from '../modules/nets/net.entity.js';
import { HubSettingEntity } from '../modules/schedulers/hub-setting.entity.js';
import { SchedulerEntity } from '../modules/schedulers/scheduler.entity.js';
import { KitSlotEntity } from '../modules/trusts/kit-slot.entity.js';
import { TrustEntity } from '../modules/trusts/trust.entity.js';

/**
 * Every entity, listed explicitly: no folder discovery at run time. Together
 * they describe the whole schema; test/integration/schema.int-spec.ts proves
 * the migrations build exactly it.
 */
export const entities = [
  NetEntity,
  SchedulerEntity,
  JobEntity,
  JobTrustEntity,
  TrustEntity,
  KitSlotEntity,
  ProjectEntity,
  ModelEntity,
  ModelApprovedTrustEntity,
  CohortQueryEntity,
  HubSettingEntity,
  AuditLogEntity,
];
