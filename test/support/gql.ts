/**
 * GraphQL helpers shared by the e2e files:
 *
 *   expectError(await hub.gql(QUERY, { id: UNKNOWN_ID }), 'NOT_FOUND');
 *   await expectRejected(hub, db.pool, 'BAD_USER_INPUT', CREATE_TRUST, { name: '' }); // refused, nothing written
 *   const make = creator(hub); const trust = await make.trust('Alpha');             // rows made through the API
 *
 * and the shapes the e2e files read back (`TrustView`, …). Scenario-style state (project, cohort query,
 * trusts, a model) for integration tests is `createScenario` in scenario.ts.
 */

import { expect } from '@jest/globals';
import type pg from 'pg';
import type { GqlResponse, TestHub } from './hub.js';
import { snapshot } from './snapshot.js';

/** A well-formed id no row has. */
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

export interface TrustView {
  id: string;
  name: string;
  slotName: string | null;
}
export interface ProjectView {
  id: string;
  name: string;
}
export interface ModelView {
  id: string;
  name: string;
  status: string;
  project: ProjectView;
  approvedTrusts: TrustView[];
}
export interface SchedulerView {
  id: string;
  status: 'AVAILABLE' | 'BUSY';
  net: { id: string; name: string };
  job: { id: string } | null;
}

/** A refusal: a client error (no 5xx), one GraphQL error, with this `extensions.code`. */
export function expectError(response: GqlResponse, code: string): void {
  expect(response.status).toBeLessThan(500);
  expect(response.errors?.map((e) => e.extensions?.code)).toEqual([code]);
}

/** Sends a mutation that must be refused with `code` and must not change any row (see snapshot.ts). */
export async function expectRejected(
  hub: TestHub,
  pool: pg.Pool,
  code: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<void> {
  const before = await snapshot(pool);
  expectError(await hub.gql(query, variables), code);
  expect(await snapshot(pool)).toEqual(before);
}

/** Creates rows through the API, as a client would. */
export function creator(hub: TestHub) {
  const one = async <T>(query: string, variables: Record<string, unknown>): Promise<T> =>
    Object.values(await hub.gqlOk<Record<string, T>>(query, variables))[0];
  return {
    trust: (name: string) =>
      one<TrustView>('mutation($name: String!) { createTrust(input: { name: $name }) { id name slotName } }', { name }),
    project: (name: string) =>
      one<ProjectView>('mutation($name: String!) { createProject(input: { name: $name }) { id name } }', { name }),
    model: (projectId: string, name: string, approvedTrustIds: string[]) =>
      one<{ id: string }>('mutation($input: CreateModelInput!) { createModel(input: $input) { id } }', {
        input: { projectId, name, approvedTrustIds },
      }),
    cohortQuery: (projectId: string, name: string, query: string) =>
      one<{ id: string; createdAt: string }>(
        'mutation($input: CreateCohortQueryInput!) { createCohortQuery(input: $input) { id createdAt } }',
        { input: { projectId, name, query } },
      ),
    job: async (modelId: string, trustIds: string[]): Promise<string> =>
      (
        await one<{ id: string }>(
          'mutation($modelId: ID!, $trustIds: [ID!]!) { queueTraining(modelId: $modelId, trustIds: $trustIds) { id } }',
          { modelId, trustIds },
        )
      ).id,
  };
}
