import { Injectable } from '@nestjs/common';
import { batchLoader, byKey, type LoaderSet } from '../../graphql/request-loaders.js';
import type { ProjectModel, TrainingModel } from './models.model.js';
import { ModelsService } from './models.service.js';

@Injectable()
export class ModelLoaders implements LoaderSet {
  constructor(private readonly models: ModelsService) {}

  create(options: { cache: boolean }) {
    return {
      model: batchLoader<TrainingModel | null>(async (ids) => byKey(await this.models.modelsByIds(ids), 'id', ids), options),
      project: batchLoader<ProjectModel | null>(async (ids) => byKey(await this.models.projectsByIds(ids), 'id', ids), options),
      /** model id → its project id (null: unknown); cached even in subscriptions, since a model's project never changes */
      projectOfModel: batchLoader<string | null>(
        async (ids) => byKey(await this.models.modelsByIds(ids), 'id', ids).map((model) => model?.projectId ?? null),
        { cache: true },
      ),
    };
  }
}
