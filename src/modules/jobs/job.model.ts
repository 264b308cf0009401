import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { JobStatus } from './job.entity.js';

registerEnumType(JobStatus, { name: 'JobStatus' });

@ObjectType('Job', { description: 'A request to train a model with a set of trusts' })
export class JobModel {
  @Field(() => ID)
  id!: string;

  @Field(() => JobStatus)
  status!: JobStatus;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  completedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "the run's id on its net" })
  backendJobId!: string | null;

  @Field(() => Int, { description: 'how many times the job was claimed for a start' })
  attempts!: number;

  modelId!: string;
  netId!: string | null;
}
