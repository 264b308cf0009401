import { Field, ObjectType } from '@nestjs/graphql';
import { NetModel } from './net.model.js';

@ObjectType('TrustClient', { description: "a trust's FL client as one net sees it (from the net's check_client_status)" })
export class TrustClientModel {
  @Field(() => NetModel)
  net!: NetModel;

  @Field()
  online!: boolean;

  @Field(() => Date, { nullable: true })
  lastSeen!: Date | null;
}
