import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { SchedulerStatus } from './scheduler.entity.js';

registerEnumType(SchedulerStatus, { name: 'SchedulerStatus' });

@ObjectType('Scheduler', { description: "A net's slot in the pool: AVAILABLE, or BUSY with a job or a claim lease" })
export class SchedulerModel {
  @Field(() => ID)
  id!: string;

  @Field(() => SchedulerStatus)
  status!: SchedulerStatus;

  @Field(() => Date, { nullable: true, description: 'until when an unconfirmed claim holds the net' })
  leaseUntil!: Date | null;

  @Field(() => Date)
  updatedAt!: Date;

  netId!: string;
  jobId!: string | null;
}
