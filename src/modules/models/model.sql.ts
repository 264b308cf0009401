import { sql } from '../../database/sql.js';

/** Columns of `model m` in the shape of the GraphQL Model (TrainingModel). */
export const MODEL_COLUMNS = sql.raw(`m.id, m.name, m.status, m.project_id as "projectId"`);
