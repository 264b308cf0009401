import { Field, ID, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('Trust', { description: 'A hospital taking part in federated training' })
export class TrustModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true, description: "the trust's FL identity (kit slot name), if it has one" })
  slotName!: string | null;

  @Field(() => Int, { nullable: true, description: 'null: no limit' })
  maxConcurrentJobs!: number | null;

  @Field({ description: 'on hold now (a hold whose time has passed is over): jobs naming it wait (TRUST_HELD)' })
  onHold!: boolean;

  @Field(() => Date, { nullable: true, description: 'when a hold ends by itself; null: held until released, or not on hold' })
  holdUntil!: Date | null;
}

@ObjectType('TrustSlotName')
export class TrustSlotNameModel {
  @Field(() => ID)
  trustId!: string;

  @Field()
  slotName!: string;
}
