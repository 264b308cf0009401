import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { ProjectScope } from '../../common/auth/scopes.js';
import { badInput, notFound } from '../../common/errors.js';
import { assertQueryText, assertUuidList, normalizeName } from '../../common/validation.js';
import { query, queryOne, sql } from '../../database/sql.js';
import { latestCohortQuery } from './cohort-query.sql.js';
import { TrustEntity } from '../trusts/trust.entity.js';
import { CohortQueryEntity } from './cohort-query.entity.js';
import { ModelEntity } from './model.entity.js';
import type { CohortQueryModel, ProjectModel, TrainingDetailsModel, TrainingModel } from './models.model.js';
import { ProjectEntity } from './project.entity.js';
import { MODEL_COLUMNS, PROJECT_COLUMNS, type ModelRow, type ProjectRow } from './model.sql.js';
import { modelInScope } from './project-scope.sql.js';

/** Projects, their models (with approved trusts) and cohort queries. */
@Injectable()
export class ModelsService {
  constructor(private readonly em: EntityManager) {}

  async createProject(input: { name: string }): Promise<ProjectModel> {
    const em = this.em.fork();
    const project = em.create(ProjectEntity, { name: normalizeName(input.name) });
    await em.flush();
    return { id: project.id, name: project.name, maxConcurrentJobs: null, share: project.share };
  }

  /** Projects in scope, by name. */
  async listProjects(scope: ProjectScope): Promise<ProjectModel[]> {
    return query<ProjectRow>(
      this.em.fork(),
      scope.unrestricted
        ? sql`select ${PROJECT_COLUMNS} from project p order by p.name, p.id`
        : sql`select ${PROJECT_COLUMNS} from project p where p.id = any(${scope.projectIds}::uuid[]) order by p.name, p.id`,
    );
  }

  /** A model of a project in scope; every approved trust must exist (else BAD_USER_INPUT, nothing written). */
  async createModel(
    input: { projectId: string; name: string; approvedTrustIds: string[] },
    scope: ProjectScope,
  ): Promise<TrainingModel> {
    scope.assertIncludes(input.projectId, `project ${input.projectId}`);
    const name = normalizeName(input.name);
    const trustIds = assertUuidList(input.approvedTrustIds, 'approvedTrustIds', { allowEmpty: true });
    return this.em.fork().transactional(async (em) => {
      const project = await em.findOne(ProjectEntity, { id: input.projectId });
      if (!project) throw notFound('Project', input.projectId);
      const trusts = await this.existingTrusts(em, trustIds, 'approvedTrustIds');
      const model = em.create(ModelEntity, { name, project });
      model.approvedTrusts.set(trusts);
      await em.flush();
      return { id: model.id, name: model.name, status: model.status, projectId: project.id };
    });
  }

  /** Replaces a model's approved trusts. Queued jobs naming a trust no longer approved are retired at their next claim. */
  async updateModelApprovedTrusts(modelId: string, trustIdsInput: string[]): Promise<TrainingModel> {
    const trustIds = assertUuidList(trustIdsInput, 'trustIds', { allowEmpty: true });
    return this.em.fork().transactional(async (em) => {
      const model = await em.findOne(ModelEntity, { id: modelId }, { populate: ['approvedTrusts'] });
      if (!model) throw notFound('Model', modelId);
      model.approvedTrusts.set(await this.existingTrusts(em, trustIds, 'trustIds'));
      await em.flush();
      return { id: model.id, name: model.name, status: model.status, projectId: model.project.id };
    });
  }

  async createCohortQuery(
    input: { projectId: string; name: string; query: string },
    scope: ProjectScope,
  ): Promise<CohortQueryModel> {
    scope.assertIncludes(input.projectId, `project ${input.projectId}`);
    const name = normalizeName(input.name);
    const text = assertQueryText(input.query);
    const em = this.em.fork();
    const project = await em.findOne(ProjectEntity, { id: input.projectId });
    if (!project) throw notFound('Project', input.projectId);
    const cohortQuery = em.create(CohortQueryEntity, { project, name, query: text });
    await em.flush();
    await em.refresh(cohortQuery);
    return { id: cohortQuery.id, name: cohortQuery.name, query: cohortQuery.query, createdAt: cohortQuery.createdAt };
  }

  /** The model, or null when unknown or outside the scope. */
  async getModel(id: string, scope: ProjectScope): Promise<TrainingModel | null> {
    const model = await queryOne<ModelRow>(
      this.em.fork(),
      sql`select ${MODEL_COLUMNS} from model m where m.id = ${id} and ${modelInScope(scope, 'm.id')}`,
    );
    return model ?? null;
  }

  /**
   * `get_required_training_details`: the model's project and its latest
   * cohort query; NOT_FOUND for either missing, FORBIDDEN outside the scope.
   */
  async getRequiredTrainingDetails(modelId: string, scope: ProjectScope): Promise<TrainingDetailsModel> {
    const row = await queryOne<{ projectId: string; cohortQuery: CohortQueryModel | null }>(
      this.em.fork(),
      sql`select m.project_id as "projectId",
            (select json_build_object('id', lc.id, 'name', lc.name, 'query', lc.query, 'createdAt', lc.created_at)
             from ${latestCohortQuery('m.project_id', 'lc')}) as "cohortQuery"
          from model m where m.id = ${modelId}`,
    );
    if (!row) throw notFound('Model', modelId);
    scope.assertIncludes(row.projectId, `model ${modelId}`);
    if (!row.cohortQuery) throw notFound(`a cohort query for the project of model ${modelId}`);
    const cohortQuery = { ...row.cohortQuery, createdAt: new Date(row.cohortQuery.createdAt) };
    return { modelId, projectId: row.projectId, cohortQuery };
  }

  async modelsByIds(ids: readonly string[]): Promise<TrainingModel[]> {
    return query<ModelRow>(this.em.fork(), sql`select ${MODEL_COLUMNS} from model m where m.id = any(${ids}::uuid[])`);
  }

  async projectsByIds(ids: readonly string[]): Promise<ProjectModel[]> {
    return query<ProjectRow>(this.em.fork(), sql`select ${PROJECT_COLUMNS} from project p where p.id = any(${ids}::uuid[])`);
  }

  private async existingTrusts(em: EntityManager, ids: string[], field: string): Promise<TrustEntity[]> {
    if (ids.length === 0) return [];
    const trusts = await em.find(TrustEntity, { id: { $in: ids } });
    const found = new Set(trusts.map((t) => t.id));
    const unknown = ids.filter((id) => !found.has(id));
    if (unknown.length > 0) throw badInput(`unknown trust(s): ${unknown.join(', ')}`, { field, unknown });
    return trusts;
  }
}
