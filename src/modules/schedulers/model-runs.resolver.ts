import { Args, ID, Mutation, Resolver } from '@nestjs/graphql';
import { Allow } from '../../common/auth/roles.js';
import { ActScope, NetScope, ProjectScope, Reporter } from '../../common/auth/scopes.js';
import { UuidPipe } from '../../common/uuid.pipe.js';
import { ModelStatus } from '../models/model-status.js';
import { TrainingModel } from '../models/models.model.js';
import { RunControlService } from './running/run-control.service.js';

@Resolver(() => TrainingModel)
export class ModelRunsResolver {
  constructor(private readonly runControl: RunControlService) {}

  @Allow('researcher')
  @Mutation(() => TrainingModel, { description: 'aborts the run on its net, removes the jobs, model → STOPPED' })
  stopTraining(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @ActScope() scope: ProjectScope,
  ): Promise<TrainingModel> {
    return this.runControl.stopTraining(modelId, scope);
  }

  @Allow('net')
  @Mutation(() => TrainingModel, {
    description:
      'a status reported by a net; ERROR, STOPPED, RESULTS_UPLOADED or RESULTS_UPLOAD_FAILED end the run and free the net',
  })
  updateModelStatus(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @Args('status', { type: () => ModelStatus }) status: ModelStatus,
    @Reporter() reporter: NetScope,
  ): Promise<TrainingModel> {
    return this.runControl.updateModelStatus(modelId, status, reporter);
  }
}
