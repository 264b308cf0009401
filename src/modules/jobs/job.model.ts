import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { EndReason, JobStatus } from './job.entity.js';
import './job-admission.model.js'; // registers EndReason

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

  @Field(() => EndReason, { nullable: true, description: 'null unless the job is DELETED' })
  endReason!: EndReason | null;

  modelId!: string;
  netId!: string | null;
}
