import { Module } from '@nestjs/common';
import { NetStateService } from './net-state/net-state.service.js';
import { NetStateResolver } from './net-state.resolver.js';
import { SchedulerLoaders } from './net-state/scheduler.loaders.js';
import { FlBackendsModule } from '../../fl-backends/fl-backends.module.js';
import { NetsModule } from '../nets/nets.module.js';
import { ClaimService } from './picking-up/claim.service.js';
import { AdmissionService } from './net-state/admission.service.js';
import { DeploymentStatusResolver } from './deployment-status.resolver.js';
import { JobRemovalResolver } from './job-removal.resolver.js';
import { JobRemovalService } from './running/job-removal.service.js';
import { LimitLoaders } from './net-state/limit.loaders.js';
import { LimitsService } from './net-state/limits.service.js';
import { ProjectLimitsResolver, TrustLimitsResolver } from './limits.resolver.js';
import { ModelRunsResolver } from './model-runs.resolver.js';
import { NetSweeper } from './net-state/net-sweeper.service.js';
import { PickupCron } from './picking-up/pickup.cron.js';
import { PickupService } from './picking-up/pickup.service.js';
import { ReconcileService } from './running/reconcile.service.js';
import { RecoveryService } from './net-state/recovery.service.js';
import { RunControlService } from './running/run-control.service.js';
import { SchedulersResolver } from './schedulers.resolver.js';
import { StartFailureService } from './running/start-failure.service.js';
import { TrainingService } from './running/training.service.js';

@Module({
  imports: [FlBackendsModule, NetsModule],
  providers: [
    ClaimService,
    TrainingService,
    StartFailureService,
    RecoveryService,
    AdmissionService,
    ReconcileService,
    NetSweeper,
    JobRemovalService,
    RunControlService,
    PickupService,
    PickupCron,
    SchedulersResolver,
    ModelRunsResolver,
    DeploymentStatusResolver,
    JobRemovalResolver,
    NetStateService,
    NetStateResolver,
    SchedulerLoaders,
    LimitsService,
    LimitLoaders,
    TrustLimitsResolver,
    ProjectLimitsResolver,
  ],
  exports: [
    ClaimService,
    TrainingService,
    RecoveryService,
    ReconcileService,
    JobRemovalService,
    PickupService,
    RunControlService,
    SchedulerLoaders,
  ],
})
export class SchedulersModule {}
