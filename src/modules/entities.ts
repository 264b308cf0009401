import { JobEntity } from './jobs/job.entity.js';
import { CohortQueryEntity } from './models/cohort-query.entity.js';
import { ModelEntity } from './models/model.entity.js';
import { ProjectEntity } from './models/project.entity.js';
import { NetClientEntity } from './nets/net-client.entity.js';
import { NetEntity } from './nets/net.entity.js';
import { SchedulerEntity } from './schedulers/net-state/scheduler.entity.js';
import { KitSlotEntity } from './trusts/kit-slot.entity.js';
import { TrustEntity } from './trusts/trust.entity.js';

/** Every entity, listed explicitly: no folder discovery at run time. */
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
];
