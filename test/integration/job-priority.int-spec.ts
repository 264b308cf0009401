import { beforeAll, describe, expect, it } from '@jest/globals';
import { UNKNOWN_ID } from '../support/gql.js';
import { testToken } from '../support/hub.js';
import { useTwoProjects } from '../support/two-projects.js';

const SET =
  'mutation($id: ID!, $p: JobPriority!) { setJobPriority(jobId: $id, priority: $p) { id status priority queuePosition } }';

describe('setJobPriority: QUEUED jobs only, researchers within their projects, admin everywhere', () => {
  const t = useTwoProjects();
  let researcherA: string;
  let researcherB: string;
  let viewer: string;

  beforeAll(async () => {
    researcherA = await testToken(['researcher'], { claims: { projects: [t.a.projectId] } });
    researcherB = await testToken(['researcher'], { claims: { projects: [t.b.projectId] } });
    viewer = await testToken(['viewer']);
  });

  const priorities = async () =>
    (await t.db.pool.query<{ id: string; priority: string }>('select id, priority from job order by seq')).rows;

  it("admin and a researcher of the job's project change a queued job's priority; the answer is the job", async () => {
    const admin = await t.hub.gql(SET, { id: t.jobA2, p: 'HIGH' });
    expect(admin.errors).toBeUndefined();
    expect(admin.data?.setJobPriority).toEqual({ id: t.jobA2, status: 'QUEUED', priority: 'HIGH', queuePosition: 1 });
    const researcher = await t.as(researcherA)(SET, { id: t.jobA2, p: 'URGENT' });
    expect(researcher.data?.setJobPriority).toMatchObject({ id: t.jobA2, priority: 'URGENT' });
    expect((await priorities()).find((j) => j.id === t.jobA2)?.priority).toBe('URGENT');
    const { job } = await t.hub.gqlOk('query($id: ID!) { job(id: $id) { priority } }', { id: t.jobA2 });
    expect(job).toEqual({ priority: 'URGENT' });
  });

  it('refuses, changing nothing: another project (FORBIDDEN), a viewer (FORBIDDEN), a running job (CONFLICT), unknown or malformed input', async () => {
    const before = { priorities: await priorities(), state: await t.state() };
    const cases: Array<[string | null, Record<string, unknown>, string]> = [
      [researcherB, { id: t.jobA2, p: 'LOW' }, 'FORBIDDEN'],
      [viewer, { id: t.jobA2, p: 'LOW' }, 'FORBIDDEN'],
      [researcherA, { id: t.jobA, p: 'LOW' }, 'CONFLICT'], // IN_PROGRESS
      [null, { id: t.jobB, p: 'LOW' }, 'CONFLICT'], // admin, IN_PROGRESS
      [null, { id: UNKNOWN_ID, p: 'LOW' }, 'NOT_FOUND'],
      [researcherA, { id: UNKNOWN_ID, p: 'LOW' }, 'NOT_FOUND'],
      [null, { id: 'not-a-uuid', p: 'LOW' }, 'BAD_USER_INPUT'],
      [null, { id: t.jobA2, p: 'SUPER' }, 'BAD_USER_INPUT'],
      [null, { id: t.jobA2 }, 'BAD_USER_INPUT'],
    ];
    for (const [token, variables, code] of cases) {
      const response = token === null ? await t.hub.gql(SET, variables) : await t.as(token)(SET, variables);
      expect({ variables, code: response.errors?.[0]?.extensions?.code }).toEqual({ variables, code });
    }
    expect({ priorities: await priorities(), state: await t.state() }).toEqual(before);
  });

  it('a job that ended is CONFLICT too', async () => {
    await t.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: t.modelB });
    const response = await t.hub.gql(SET, { id: t.jobB, p: 'HIGH' });
    expect(response.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(response.errors?.[0]?.message).toMatch(/COMPLETED/);
    expect((await priorities()).find((j) => j.id === t.jobB)?.priority).toBe('NORMAL');
  });
});
