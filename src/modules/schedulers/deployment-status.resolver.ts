import { Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { NetStateService } from './net-state/net-state.service.js';
import { DeploymentStatusModel } from './pickup.model.js';
import { SchedulerStatus } from './net-state/scheduler.entity.js';
import { SchedulerModel } from './net-state/scheduler.model.js';

/** The state of every net beside the deployment mode, so an operator can see when it is safe to deploy. */
@Resolver(() => DeploymentStatusModel)
export class DeploymentStatusResolver {
  constructor(private readonly netState: NetStateService) {}

  @ResolveField(() => [SchedulerModel], { description: 'every net with its state' })
  schedulers(): Promise<SchedulerModel[]> {
    return this.netState.listSchedulers();
  }

  @ResolveField(() => Int, { description: 'nets still BUSY; 0 means no run is in flight' })
  async busyNets(@Parent() _status: DeploymentStatusModel): Promise<number> {
    return (await this.netState.listSchedulers()).filter((s) => s.status === SchedulerStatus.BUSY).length;
  }
}
