import { Args, Context, ID, Int, Mutation, Parent, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { Allow, READERS } from '../../common/auth/roles.js';
import { principalOf, ProjectScope } from '../../common/auth/scopes.js';
import { UuidPipe } from '../../common/uuid.pipe.js';
import { LiveUpdates, PROJECT_UPDATED, TRUST_UPDATED } from '../../events/live-updates.js';
import type { GqlContext } from '../../graphql/request-loaders.js';
import { ProjectModel } from '../models/models.model.js';
import { TrustModel } from '../trusts/trust.model.js';
import { LimitLoaders } from './net-state/limit.loaders.js';
import { LimitsService } from './net-state/limits.service.js';

/** A trust's capacity and hold (admin), the jobs it runs now, and its changes. */
@Resolver(() => TrustModel)
export class TrustLimitsResolver {
  constructor(
    private readonly limits: LimitsService,
    private readonly live: LiveUpdates,
  ) {}

  @Allow()
  @Mutation(() => TrustModel, { description: 'maxConcurrentJobs: null (or left out) removes the limit' })
  setTrustLimit(
    @Args('trustId', { type: () => ID }, UuidPipe) trustId: string,
    @Args('maxConcurrentJobs', { type: () => Int, nullable: true }) maxConcurrentJobs?: number | null,
  ): Promise<TrustModel> {
    return this.limits.setTrustLimit(trustId, maxConcurrentJobs ?? null);
  }

  @Allow()
  @Mutation(() => TrustModel, {
    description: 'jobs naming the trust wait until releaseTrust or until (left out: until released); running jobs go on',
  })
  holdTrust(
    @Args('trustId', { type: () => ID }, UuidPipe) trustId: string,
    @Args('until', { type: () => Date, nullable: true }) until?: Date | null,
  ): Promise<TrustModel> {
    return this.limits.holdTrust(trustId, until ?? null);
  }

  @Allow()
  @Mutation(() => TrustModel, { description: "ends the trust's hold: its jobs may start at once" })
  releaseTrust(@Args('trustId', { type: () => ID }, UuidPipe) trustId: string): Promise<TrustModel> {
    return this.limits.releaseTrust(trustId);
  }

  @Allow(...READERS)
  @Subscription(() => TrustModel, {
    description:
      'a trust created, given a kit slot, or its limit or hold changed (runningJobs moves with the jobs: see jobUpdated)',
  })
  trustUpdated(): AsyncIterableIterator<unknown> {
    return this.live.pubSub.asyncIterableIterator(TRUST_UPDATED);
  }

  @ResolveField(() => Int, { description: 'jobs naming this trust that are IN_PROGRESS now, on any net' })
  runningJobs(@Parent() trust: TrustModel, @Context() { loaders }: GqlContext): Promise<number> {
    return loaders.of(LimitLoaders).runningJobsOfTrust.load(trust.id);
  }
}

/** A project's capacity and fair share (admin), the jobs it runs now, and its changes. */
@Resolver(() => ProjectModel)
export class ProjectLimitsResolver {
  constructor(
    private readonly limits: LimitsService,
    private readonly live: LiveUpdates,
  ) {}

  @Allow()
  @Mutation(() => ProjectModel, {
    description: 'an argument left out leaves that setting unchanged; maxConcurrentJobs: null removes the limit',
  })
  setProjectLimits(
    @Args('projectId', { type: () => ID }, UuidPipe) projectId: string,
    // undefined (left out) and null differ here: left out changes nothing
    @Args('maxConcurrentJobs', { type: () => Int, nullable: true }) maxConcurrentJobs?: number | null,
    @Args('share', { type: () => Int, nullable: true, description: 'a whole number, at least 1' }) share?: number | null,
  ): Promise<ProjectModel> {
    return this.limits.setProjectLimits(projectId, { maxConcurrentJobs, share });
  }

  @Allow(...READERS)
  @Subscription(() => ProjectModel, {
    description: "a project created, or its limit or share changed; a researcher hears only its own projects'",
    filter: (payload: { projectUpdated: ProjectModel }, _variables: unknown, context: GqlContext) =>
      ProjectScope.forReading(principalOf(context)).includes(payload.projectUpdated.id),
  })
  projectUpdated(): AsyncIterableIterator<unknown> {
    return this.live.pubSub.asyncIterableIterator(PROJECT_UPDATED);
  }

  @ResolveField(() => Int, { description: "the project's jobs that are IN_PROGRESS now" })
  runningJobs(@Parent() project: ProjectModel, @Context() { loaders }: GqlContext): Promise<number> {
    return loaders.of(LimitLoaders).runningJobsOfProject.load(project.id);
  }
}
