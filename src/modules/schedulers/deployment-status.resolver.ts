import { Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { NetsService } from '../nets/nets.service.js';
import { DeploymentStatusModel } from './pickup.model.js';
import { SchedulerStatus } from './scheduler.entity.js';
import { SchedulerModel } from './scheduler.model.js';

/** The state of every net beside the deployment mode, so an operator can see when it is safe to deploy. */
@Resolver(() => DeploymentStatusModel)
export class DeploymentStatusResolver {
  constructor(private readonly nets: NetsService) {}

  @ResolveField(() => [SchedulerModel], { description: 'every net with its state' })
  schedulers(): Promise<SchedulerModel[]> {
    return this.nets.listSchedulers();
  }

  @ResolveField(() => Int, { description: 'nets still BUSY; 0 means no run is in flight' })
  async busyNets(@Parent() _status: DeploymentStatusModel): Promise<number> {
    return (await this.nets.listSchedulers()).filter((s) => s.status === SchedulerStatus.BUSY).length;
  }
}
