import { Field, InputType } from '@nestjs/graphql';

@InputType()
export class CreateTrustInput {
  @Field()
  name!: string;
}
