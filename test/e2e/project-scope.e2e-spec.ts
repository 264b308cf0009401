import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { testToken } from '../support/hub.js';
import { startTwoProjects, type TwoProjects } from '../support/two-projects.js';

/**
 * Researcher tokens (the `projects` claim) against two projects, A and B:
 * what is FORBIDDEN, what is hidden, and that admin and viewer still see all.
 */
describe('a researcher sees and acts only on the projects of its token; admin and viewer on all', () => {
  let f: TwoProjects;
  let a: TwoProjects['a'];
  let b: TwoProjects['b'];
  let modelA: string;
  let modelB: string;
  let jobA: string;
  let jobA2: string;
  let jobB: string;
  let netOfA: string;
  let netOfB: string;
  let researcherA: string;

  const as = (token: string | null) => f.as(token);
  const state = () => f.state();

  beforeAll(async () => {
    f = await startTwoProjects();
    ({ a, b, modelA, modelB, jobA, jobA2, jobB, netOfA, netOfB } = f);
    researcherA = await testToken(['researcher'], { claims: { projects: [a.projectId] } });
  });

  afterAll(async () => {
    await f?.close();
  });

  describe('a researcher of project A', () => {
    it.each([
      [
        'queueTraining',
        () => ['mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }', { m: modelB, t: b.trustIds }],
      ],
      ['stopTraining', () => ['mutation($m: ID!) { stopTraining(modelId: $m) { id } }', { m: modelB }]],
      ['removeJob', () => ['mutation($j: ID!) { removeJob(id: $j) { id } }', { j: jobB }]],
      ['removeJobsForModel', () => ['mutation($m: ID!) { removeJobsForModel(modelId: $m) }', { m: modelB }]],
      [
        'createModel',
        () => [
          'mutation($p: ID!) { createModel(input: { projectId: $p, name: "x", approvedTrustIds: [] }) { id } }',
          { p: b.projectId },
        ],
      ],
      [
        'createCohortQuery',
        () => [
          'mutation($p: ID!) { createCohortQuery(input: { projectId: $p, name: "x", query: "q" }) { id } }',
          { p: b.projectId },
        ],
      ],
      [
        'createProject (a new project would be outside its claim)',
        () => ['mutation { createProject(input: { name: "mine" }) { id } }', {}],
      ],
    ] as Array<[string, () => [string, Record<string, unknown>]]>)(
      'in project B: %s is FORBIDDEN and writes nothing',
      async (_label, call) => {
        const before = await state();
        const [mutation, variables] = call();
        const response = await as(researcherA)(mutation, variables);
        expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
        expect(await state()).toEqual(before);
      },
    );

    it("sees only A's jobs, models and cohort queries; B's busy net shows BUSY with job null", async () => {
      const read = as(researcherA);
      const { data, errors } = await read(
        `query($jb: ID!, $ja: ID!, $mb: ID!, $ma: ID!) {
          jobs(status: IN_PROGRESS) { id }
          hiddenByModel: jobs(modelId: $mb) { id }
          jb: job(id: $jb) { id } ja: job(id: $ja) { id model { id } }
          mb: model(id: $mb) { id } ma: model(id: $ma) { id }
          projects { id }
          nets { name scheduler { status job { id } } }
          schedulers { status net { name } job { id } }
          deploymentStatus { busyNets schedulers { status net { name } job { id } } }
          byName: netByName(name: "${netOfB}") { scheduler { status job { id } } }
          netByModel(modelId: $ma) { name }
        }`,
        { jb: jobB, ja: jobA, mb: modelB, ma: modelA },
      );
      expect(errors).toBeUndefined();
      const busy = (net: string, job: string | null) => ({ status: 'BUSY', net: { name: net }, job: job ? { id: job } : null });
      const expectedSchedulers = [busy(netOfA, jobA), busy(netOfB, null)].sort((x, y) => x.net.name.localeCompare(y.net.name));
      expect(data).toEqual({
        jobs: [{ id: jobA }],
        hiddenByModel: [],
        jb: null,
        ja: { id: jobA, model: { id: modelA } },
        mb: null,
        ma: { id: modelA },
        projects: [{ id: a.projectId }],
        nets: expectedSchedulers.map(({ net, ...scheduler }) => ({ name: net.name, scheduler })),
        schedulers: expectedSchedulers,
        deploymentStatus: { busyNets: 2, schedulers: expectedSchedulers },
        byName: { scheduler: { status: 'BUSY', job: null } },
        netByModel: { name: netOfA },
      });
      const details = await read('query($m: ID!) { trainingDetails(modelId: $m) { projectId cohortQuery { query } } }', {
        m: modelB,
      });
      expect(details.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(details.data ?? null).toBeNull();
      const own = await read('query($m: ID!) { trainingDetails(modelId: $m) { projectId cohortQuery { query } } }', {
        m: modelA,
      });
      expect(own.data).toEqual({ trainingDetails: { projectId: a.projectId, cohortQuery: { query: a.cohortQuery } } });
      const netOfHidden = await read('query($m: ID!) { netByModel(modelId: $m) { name } }', { m: modelB });
      expect(netOfHidden.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    });

    it("pages its jobs correctly: B's older job is left out before the limit, not after", async () => {
      const read = as(researcherA);
      const first = await read('{ jobs(first: 1) { id } }');
      expect(first.data).toEqual({ jobs: [{ id: jobA }] });
      const next = await read('query($after: ID!) { jobs(first: 1, after: $after) { id } }', { after: jobA });
      expect(next.data).toEqual({ jobs: [{ id: jobA2 }] });
    });
  });

  it('a researcher token without a projects claim sees nothing and may do nothing', async () => {
    const nobody = as(await testToken(['researcher']));
    const { data } = await nobody(
      'query($m: ID!, $j: ID!) { jobs { id } projects { id } model(id: $m) { id } job(id: $j) { id } nets { scheduler { status job { id } } } }',
      { m: modelA, j: jobA },
    );
    expect(data).toEqual({
      jobs: [],
      projects: [],
      model: null,
      job: null,
      nets: [{ scheduler: { status: 'BUSY', job: null } }, { scheduler: { status: 'BUSY', job: null } }],
    });
    const details = await nobody('query($m: ID!) { trainingDetails(modelId: $m) { projectId } }', { m: modelA });
    expect(details.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const before = await state();
    const stop = await nobody('mutation($m: ID!) { stopTraining(modelId: $m) { id } }', { m: modelA });
    expect(stop.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await state()).toEqual(before);
  });

  it.each([
    ['viewer', () => testToken(['viewer'])],
    ['admin', () => testToken(['admin'])],
    ['viewer who is also a researcher of A', () => testToken(['viewer', 'researcher'], { claims: { projects: [a.projectId] } })],
  ])('%s sees every project, job and model', async (_label, token) => {
    const { data, errors } = await as(await token())(
      'query($mb: ID!) { jobs { id } projects { id } model(id: $mb) { id } trainingDetails(modelId: $mb) { projectId } nets { scheduler { job { id } } } }',
      { mb: modelB },
    );
    expect(errors).toBeUndefined();
    const seen = data as {
      jobs: Array<{ id: string }>;
      projects: Array<{ id: string }>;
      nets: Array<{ scheduler: { job: { id: string } | null } }>;
    };
    expect(seen.jobs.map((j) => j.id)).toEqual([jobB, jobA, jobA2]);
    expect(seen.projects.map((p) => p.id).sort()).toEqual([a.projectId, b.projectId].sort());
    expect(data?.model).toEqual({ id: modelB });
    expect(data?.trainingDetails).toEqual({ projectId: b.projectId });
    expect(seen.nets.map((n) => n.scheduler.job?.id).sort()).toEqual([jobA, jobB].sort());
  });

  it("a viewer's rights do not widen what a researcher may change", async () => {
    const token = await testToken(['viewer', 'researcher'], { claims: { projects: [a.projectId] } });
    const before = await state();
    const response = await as(token)('mutation($m: ID!) { stopTraining(modelId: $m) { id } }', { m: modelB });
    expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await state()).toEqual(before);
  });

  it('concurrent nets reads (one shared database read) each get their own view', async () => {
    const viewer = await testToken(['viewer']);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => as(i % 2 ? viewer : researcherA)('{ nets { name scheduler { job { id } } } }')),
    );
    for (const [i, answer] of answers.entries()) {
      const jobs = (answer.data as { nets: Array<{ name: string; scheduler: { job: { id: string } | null } }> }).nets.map((n) => [
        n.name,
        n.scheduler.job?.id ?? null,
      ]);
      const expected =
        i % 2
          ? [
              [netOfA, jobA],
              [netOfB, jobB],
            ]
          : [
              [netOfA, jobA],
              [netOfB, null],
            ];
      expect(jobs.sort()).toEqual(expected.sort());
    }
  });

  it('a researcher of A acts in its own project (last: it adds rows the views above count): creates a model and a cohort query, queues, removes', async () => {
    const act = as(researcherA);
    const created = await act(
      'mutation($p: ID!, $t: [ID!]!) { createModel(input: { projectId: $p, name: "own", approvedTrustIds: $t }) { id project { id } } }',
      { p: a.projectId, t: a.trustIds },
    );
    expect(created.errors).toBeUndefined();
    const model = (created.data as { createModel: { id: string; project: { id: string } } }).createModel;
    expect(model.project.id).toBe(a.projectId);
    const cohort = await act(
      'mutation($p: ID!) { createCohortQuery(input: { projectId: $p, name: "c2", query: "q2" }) { id } }',
      {
        p: a.projectId,
      },
    );
    expect(cohort.errors).toBeUndefined();
    const queued = await act('mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id status } }', {
      m: model.id,
      t: a.trustIds,
    });
    expect((queued.data as { queueTraining: { status: string } }).queueTraining.status).toBe('QUEUED');
    const removed = await act('mutation($m: ID!) { removeJobsForModel(modelId: $m) }', { m: model.id });
    expect(removed.data).toEqual({ removeJobsForModel: 1 });
  });
});
