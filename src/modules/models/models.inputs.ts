import { Field, ID, InputType } from '@nestjs/graphql';

@InputType()
export class CreateProjectInput {
  @Field()
  name!: string;
}

@InputType()
export class CreateModelInput {
  @Field(() => ID)
  projectId!: string;

  @Field()
  name!: string;

  @Field(() => [ID])
  approvedTrustIds!: string[];
}

@InputType()
export class CreateCohortQueryInput {
  @Field(() => ID)
  projectId!: string;

  @Field()
  name!: string;

  @Field()
  query!: string;
}
