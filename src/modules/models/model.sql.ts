import { columns, type RowFor, type RowOf } from '../../database/columns.js';
import { ModelEntity } from './model.entity.js';
import type { TrainingModel } from './models.model.js';

/** Columns of `model m` in the shape of the GraphQL Model (TrainingModel). */
export const MODEL_COLUMNS = columns(ModelEntity, 'm', ['id', 'name', 'status', 'project']);

export type ModelRow = RowFor<TrainingModel, RowOf<typeof MODEL_COLUMNS>>;
