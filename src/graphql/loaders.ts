import { Injectable } from '@nestjs/common';
import DataLoaderBase from 'dataloader';
import type { AuthenticatedRequest } from '../common/auth/auth.guard.js';
import type { Principal } from '../common/auth/roles.js';
import type { ProjectScope } from '../common/auth/scopes.js';
import type { JobModel } from '../modules/jobs/job.model.js';
import { JobsService } from '../modules/jobs/jobs.service.js';
import type { ProjectModel, TrainingModel } from '../modules/models/models.model.js';
import { ModelsService } from '../modules/models/models.service.js';
import type { NetModel } from '../modules/nets/net.model.js';
import { NetsService } from '../modules/nets/nets.service.js';
import type { SchedulerModel } from '../modules/schedulers/scheduler.model.js';
import type { TrustModel } from '../modules/trusts/trust.model.js';
import { TrustsService } from '../modules/trusts/trusts.service.js';

function byKey<T, K extends keyof T>(rows: T[], key: K, keys: readonly T[K][]): Array<T | null> {
  const index = new Map(rows.map((row) => [row[key], row]));
  return keys.map((k) => index.get(k) ?? null);
}

function groupedBy<T, K extends keyof T>(rows: T[], key: K, keys: readonly T[K][]): T[][] {
  const groups = Map.groupBy(rows, (row) => row[key]);
  return keys.map((k) => groups.get(k) ?? []);
}

/** Per-request batch loaders: each nested field costs one query per request, not one per row. */
type BatchFn<K, V> = (keys: readonly K[]) => Promise<ArrayLike<V | Error>>;

type DataLoader<K, V> = DataLoaderBase<K, V>;

export interface Loaders {
  net: DataLoader<string, NetModel | null>;
  schedulerByNet: DataLoader<string, SchedulerModel | null>;
  job: DataLoader<string, JobModel | null>;
  model: DataLoader<string, TrainingModel | null>;
  project: DataLoader<string, ProjectModel | null>;
  trustsByJob: DataLoader<string, TrustModel[]>;
  approvedTrustsByModel: DataLoader<string, TrustModel[]>;
  queuePosition: DataLoader<string, number | null>;
  /** model id → its project id (null: unknown); cached even in subscriptions, since a model's project never changes */
  projectOfModel: DataLoader<string, string | null>;
}

export interface GqlContext {
  req?: AuthenticatedRequest;
  /** a subscription's principal (verified at connection_init) */
  principal?: Principal;
  loaders: Loaders;
}

/** The job when its project is in scope, else null: a job the caller may not see shows as no job at all. */
export async function visibleJob(loaders: Loaders, scope: ProjectScope, job: JobModel | null): Promise<JobModel | null> {
  if (!job || scope.unrestricted) return job;
  const projectId = await loaders.projectOfModel.load(job.modelId);
  return projectId !== null && scope.includes(projectId) ? job : null;
}

@Injectable()
export class LoadersFactory {
  constructor(
    private readonly nets: NetsService,
    private readonly jobs: JobsService,
    private readonly models: ModelsService,
    private readonly trusts: TrustsService,
  ) {}

  /** `cache: false` for long-lived contexts (subscriptions): batch within a tick, never serve stale rows. */
  create(options: { cache?: boolean } = {}): Loaders {
    const cache = options.cache ?? true;
    const loader = <V>(batch: BatchFn<string, V>) => new DataLoaderBase<string, V>(batch, { cache });
    return {
      net: loader(async (ids) => byKey(await this.nets.netsByIds(ids), 'id', ids)),
      schedulerByNet: loader(async (ids) => byKey(await this.nets.schedulersByNetIds(ids), 'netId', ids)),
      job: loader(async (ids) => byKey(await this.jobs.listJobsByIds(ids), 'id', ids)),
      model: loader(async (ids) => byKey(await this.models.modelsByIds(ids), 'id', ids)),
      project: loader(async (ids) => byKey(await this.models.projectsByIds(ids), 'id', ids)),
      trustsByJob: loader(async (ids) => groupedBy(await this.trusts.trustsByJobIds(ids), 'jobId', ids)),
      approvedTrustsByModel: loader(async (ids) => groupedBy(await this.trusts.approvedTrustsByModelIds(ids), 'modelId', ids)),
      queuePosition: loader(async (ids) =>
        byKey(await this.jobs.queuePositions(ids), 'id', ids).map((row) => row?.position ?? null),
      ),
      projectOfModel: new DataLoaderBase<string, string | null>(async (ids) =>
        byKey(await this.models.modelsByIds(ids), 'id', ids).map((model) => model?.projectId ?? null),
      ),
    };
  }
}
