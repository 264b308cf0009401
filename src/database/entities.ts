import { JobEntity } from '../modules/jobs/job.entity.js';
import { CohortQueryEntity } from '../modules/models/cohort-query.entity.js';
import { ModelEntity } from '../modules/models/model.entity.js';
import { ProjectEntity } from '../modules/models/project.entity.js';
import { NetClientEntity } from '../modules/nets/net-client.entity.js';
import { NetEntity } from '../modules/nets/net.entity.js';
import { SchedulerEntity } from '../modules/schedulers/scheduler.entity.js';
import { KitSlotEntity } from '../modules/trusts/kit-slot.entity.js';
import { TrustEntity } from '../modules/trusts/trust.entity.js';

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
