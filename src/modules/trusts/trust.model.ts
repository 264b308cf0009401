import { Field, ID, ObjectType } from '@nestjs/graphql';

@ObjectType('Trust', { description: 'A hospital taking part in federated training' })
export class TrustModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true, description: "the trust's FL identity (kit slot name), if it has one" })
  slotName!: string | null;
}

@ObjectType('TrustSlotName')
export class TrustSlotNameModel {
  @Field(() => ID)
  trustId!: string;

  @Field()
  slotName!: string;
}
