import { Field, ObjectType } from '@nestjs/graphql';
import { JobModel } from '../jobs/job.model.js';
import { SchedulerModel } from './net-state/scheduler.model.js';

@ObjectType('PickupCycleResult')
export class PickupCycleResultModel {
  @Field(() => [JobModel], { description: 'jobs whose training was started on a net in this cycle' })
  started!: JobModel[];

  @Field(() => [JobModel], { description: 'jobs claimed in this cycle whose start failed (job removed, model ERROR)' })
  failed!: JobModel[];
}

@ObjectType('DeploymentStatus')
export class DeploymentStatusModel {
  @Field({ description: 'true: running jobs finish, nothing new is picked up' })
  enabled!: boolean;

  @Field(() => Date, { nullable: true, description: 'when the mode last changed' })
  since!: Date | null;
}

export { SchedulerModel };
