import { columns, type RowFor, type RowOf } from '../../database/columns.js';
import { ModelEntity } from './model.entity.js';
import type { ProjectModel, TrainingModel } from './models.model.js';
import { ProjectEntity } from './project.entity.js';

/** Columns of `model m` in the shape of the GraphQL Model (TrainingModel). */
export const MODEL_COLUMNS = columns(ModelEntity, 'm', ['id', 'name', 'status', 'project']);

export type ModelRow = RowFor<TrainingModel, RowOf<typeof MODEL_COLUMNS>>;

/** Columns of `project p` in the shape of ProjectModel. */
export const PROJECT_COLUMNS = columns(ProjectEntity, 'p', ['id', 'name', 'maxConcurrentJobs', 'share']);

export type ProjectRow = RowFor<ProjectModel, RowOf<typeof PROJECT_COLUMNS>>;
