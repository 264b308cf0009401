import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Allow, READERS } from '../../common/auth/roles.js';
import { ActScope, ProjectScope, ReadScope } from '../../common/auth/scopes.js';
import { notFound } from '../../common/errors.js';
import { assertUuid } from '../../common/validation.js';
import { UuidListPipe, UuidPipe } from '../../common/uuid.pipe.js';
import type { GqlContext } from '../../graphql/request-loaders.js';
import { TrustLoaders } from '../trusts/trust.loaders.js';
import { ModelLoaders } from './model.loaders.js';
import { TrustModel } from '../trusts/trust.model.js';
import { CreateCohortQueryInput, CreateModelInput, CreateProjectInput } from './models.inputs.js';
import { CohortQueryModel, ProjectModel, TrainingDetailsModel, TrainingModel } from './models.model.js';
import { ModelsService } from './models.service.js';

@Resolver(() => TrainingModel)
export class ModelsResolver {
  constructor(private readonly models: ModelsService) {}

  @Allow(...READERS)
  @Query(() => TrainingModel, { nullable: true })
  model(@Args('id', { type: () => ID }, UuidPipe) id: string, @ReadScope() scope: ProjectScope): Promise<TrainingModel | null> {
    return this.models.getModel(id, scope);
  }

  @Allow(...READERS)
  @Query(() => TrainingDetailsModel, { description: "the model's project and the project's latest cohort query" })
  trainingDetails(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @ReadScope() scope: ProjectScope,
  ): Promise<TrainingDetailsModel> {
    return this.models.getRequiredTrainingDetails(modelId, scope);
  }

  @Allow(...READERS)
  @Query(() => [ProjectModel], { description: "every project; a researcher's own (its token's projects claim)" })
  projects(@ReadScope() scope: ProjectScope): Promise<ProjectModel[]> {
    return this.models.listProjects(scope);
  }

  // admin only: a project a researcher created would lie outside its own token's projects claim
  @Allow()
  @Mutation(() => ProjectModel)
  createProject(@Args('input') input: CreateProjectInput): Promise<ProjectModel> {
    return this.models.createProject(input);
  }

  @Allow('researcher')
  @Mutation(() => TrainingModel)
  createModel(@Args('input') input: CreateModelInput, @ActScope() scope: ProjectScope): Promise<TrainingModel> {
    return this.models.createModel({ ...input, projectId: assertUuid(input.projectId, 'projectId') }, scope);
  }

  @Allow('researcher')
  @Mutation(() => CohortQueryModel)
  createCohortQuery(@Args('input') input: CreateCohortQueryInput, @ActScope() scope: ProjectScope): Promise<CohortQueryModel> {
    return this.models.createCohortQuery({ ...input, projectId: assertUuid(input.projectId, 'projectId') }, scope);
  }

  @Allow()
  @Mutation(() => TrainingModel, { description: "replaces a model's approved trusts" })
  updateModelApprovedTrusts(
    @Args('modelId', { type: () => ID }, UuidPipe) modelId: string,
    @Args('trustIds', { type: () => [ID] }, UuidListPipe) trustIds: string[],
  ): Promise<TrainingModel> {
    return this.models.updateModelApprovedTrusts(modelId, trustIds);
  }

  @ResolveField(() => ProjectModel)
  async project(@Parent() model: TrainingModel, @Context() { loaders }: GqlContext): Promise<ProjectModel> {
    const project = await loaders.of(ModelLoaders).project.load(model.projectId);
    if (!project) throw notFound('Project', model.projectId);
    return project;
  }

  @ResolveField(() => [TrustModel])
  approvedTrusts(@Parent() model: TrainingModel, @Context() { loaders }: GqlContext): Promise<TrustModel[]> {
    return loaders.of(TrustLoaders).approvedTrustsByModel.load(model.id);
  }
}
