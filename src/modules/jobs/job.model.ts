import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { EndReason, JobPriority, JobStatus } from './job.entity.js';
import './job-admission.model.js'; // registers EndReason

registerEnumType(JobStatus, { name: 'JobStatus' });
registerEnumType(JobPriority, {
  name: 'JobPriority',
  description: 'how urgent a job is; the dispatch order is by priority first (with aging), then fair share, then age',
});

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

  @Field(() => JobPriority)
  priority!: JobPriority;

  @Field(() => Date, {
    nullable: true,
    description: 'the earliest time the job may start (a backoff or notBefore), null when it may start now',
  })
  notBefore!: Date | null;

  /** the job's own limit in seconds (0: none); null: the hub's MAX_RUNTIME_S applies (`maxRuntimeSeconds` resolves it) */
  maxRuntimeS!: number | null;

  @Field(() => EndReason, { nullable: true, description: 'null unless the job is DELETED' })
  endReason!: EndReason | null;

  modelId!: string;
  netId!: string | null;
}
