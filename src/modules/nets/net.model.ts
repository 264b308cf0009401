import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { FlBackend } from '../../fl-backends/fl-backend.enum.js';

registerEnumType(FlBackend, { name: 'FLBackend', description: 'the FL framework a net runs' });

@ObjectType('Net', { description: 'An FL server (NVIDIA FLARE or Flower) the hub dispatches training to' })
export class NetModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'base URL of the net' })
  endpoint!: string;

  @Field(() => FlBackend)
  flBackend!: FlBackend;

  @Field({ description: 'true: the net takes no new job (its running job finishes)' })
  drained!: boolean;
}
