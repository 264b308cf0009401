import { Module } from '@nestjs/common';
import { FlBackendsModule } from '../../fl-backends/fl-backends.module.js';
import { NetsModule } from '../nets/nets.module.js';
import { ClaimService } from './claim.service.js';
import { DeploymentStatusResolver } from './deployment-status.resolver.js';
import { JobRemovalService } from './job-removal.service.js';
import { ModelRunsResolver } from './model-runs.resolver.js';
import { NetSweeper } from './net-sweeper.service.js';
import { PickupCron } from './pickup.cron.js';
import { PickupService } from './pickup.service.js';
import { ReconcileService } from './reconcile.service.js';
import { RecoveryService } from './recovery.service.js';
import { RunControlService } from './run-control.service.js';
import { SchedulersResolver } from './schedulers.resolver.js';
import { StartFailureService } from './start-failure.service.js';
import { TrainingService } from './training.service.js';

@Module({
  imports: [FlBackendsModule, NetsModule],
  providers: [
    ClaimService,
    TrainingService,
    StartFailureService,
    RecoveryService,
    ReconcileService,
    NetSweeper,
    JobRemovalService,
    RunControlService,
    PickupService,
    PickupCron,
    SchedulersResolver,
    ModelRunsResolver,
    DeploymentStatusResolver,
  ],
  exports: [
    ClaimService,
    TrainingService,
    RecoveryService,
    ReconcileService,
    JobRemovalService,
    PickupService,
    RunControlService,
  ],
})
export class SchedulersModule {}
