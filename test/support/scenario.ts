/**
 * State made through the hub's own GraphQL: `createScenario(hub, trusts)` gives a project with a cohort
 * query, trusts with kit slots, and `newModel()` / `queue(modelId)`. useNetHub makes one (`f.s`).
 */
import type { TestHub } from './hub.js';

/** A project with a cohort query, trusts with kit slots, and a model approving them — made through GraphQL. */
export interface Scenario {
  projectId: string;
  trustIds: string[];
  slotNames: string[];
  cohortQuery: string;
  newModel(name?: string, approvedTrustIds?: string[]): Promise<string>;
  queue(modelId: string, trustIds?: string[]): Promise<string>;
}

let counter = 0;

/** Made through `hub`'s GraphQL: an in-process TestHub or a HubProcess. */
export async function createScenario(hub: Pick<TestHub, 'gqlOk'>, trustCount = 2): Promise<Scenario> {
  const suffix = `${process.pid}-${++counter}`;
  const { createProject } = await hub.gqlOk<{ createProject: { id: string } }>(
    'mutation($name: String!) { createProject(input: { name: $name }) { id } }',
    { name: `Project ${suffix}` },
  );
  const cohortQuery = `SELECT * FROM cohort WHERE suffix = '${suffix}'`;
  await hub.gqlOk('mutation($input: CreateCohortQueryInput!) { createCohortQuery(input: $input) { id } }', {
    input: { projectId: createProject.id, name: 'cohort', query: cohortQuery },
  });
  const trustIds: string[] = [];
  const slotNames: string[] = [];
  for (let i = 0; i < trustCount; i++) {
    const { createTrust } = await hub.gqlOk<{ createTrust: { id: string; slotName: string | null } }>(
      'mutation($name: String!) { createTrust(input: { name: $name }) { id slotName } }',
      { name: `Trust ${suffix}-${i}` },
    );
    trustIds.push(createTrust.id);
    if (createTrust.slotName) slotNames.push(createTrust.slotName);
  }
  const scenario: Scenario = {
    projectId: createProject.id,
    trustIds,
    slotNames,
    cohortQuery,
    newModel: async (name = `Model ${suffix}-${++counter}`, approvedTrustIds = trustIds) => {
      const { createModel } = await hub.gqlOk<{ createModel: { id: string } }>(
        'mutation($input: CreateModelInput!) { createModel(input: $input) { id } }',
        { input: { projectId: createProject.id, name, approvedTrustIds } },
      );
      return createModel.id;
    },
    queue: async (modelId, ids = trustIds) => {
      const { queueTraining } = await hub.gqlOk<{ queueTraining: { id: string } }>(
        'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }',
        { m: modelId, t: ids },
      );
      return queueTraining.id;
    },
  };
  return scenario;
}

export const JOB_FIELDS = 'id status startedAt completedAt backendJobId attempts queuePosition net { name } model { id status }';
