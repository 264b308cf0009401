import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ModelStatus } from './model-status.js';

registerEnumType(ModelStatus, { name: 'ModelStatus' });

@ObjectType('Project')
export class ProjectModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => Int, { nullable: true, description: 'null: no limit' })
  maxConcurrentJobs!: number | null;

  @Field(() => Int, { description: 'fair-share weight, at least 1 (default 1)' })
  share!: number;
}

@ObjectType('Model', { description: 'A machine-learning model of a project, trained on approved trusts' })
export class TrainingModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => ModelStatus)
  status!: ModelStatus;

  projectId!: string;
}

@ObjectType('CohortQuery')
export class CohortQueryModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  query!: string;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType('TrainingDetails')
export class TrainingDetailsModel {
  @Field(() => ID)
  modelId!: string;

  @Field(() => ID)
  projectId!: string;

  @Field(() => CohortQueryModel)
  cohortQuery!: CohortQueryModel;
}
