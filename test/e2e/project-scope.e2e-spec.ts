import { beforeAll, describe, expect, it } from '@jest/globals';
import { testToken } from '../support/hub.js';
import { useTwoProjects } from '../support/two-projects.js';

/**
 * Researcher tokens (the `projects` claim) against two projects, A and B:
 * what is FORBIDDEN, what is hidden, and that admin and viewer still see all.
 */
describe('a researcher sees and acts only on the projects of its token; admin and viewer on all', () => {
  const f = useTwoProjects();
  let researcherA: string;

  beforeAll(async () => {
    researcherA = await testToken(['researcher'], { claims: { projects: [f.a.projectId] } });
  });

  describe('a researcher of project A', () => {
    it.each([
      [
        'queueTraining',
        () => [
          'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }',
          { m: f.modelB, t: f.b.trustIds },
        ],
      ],
      ['stopTraining', () => ['mutation($m: ID!) { stopTraining(modelId: $m) { id } }', { m: f.modelB }]],
      ['removeJob', () => ['mutation($j: ID!) { removeJob(id: $j) { id } }', { j: f.jobB }]],
      ['removeJobsForModel', () => ['mutation($m: ID!) { removeJobsForModel(modelId: $m) }', { m: f.modelB }]],
      [
        'createModel',
        () => [
          'mutation($p: ID!) { createModel(input: { projectId: $p, name: "x", approvedTrustIds: [] }) { id } }',
          { p: f.b.projectId },
        ],
      ],
      [
        'createCohortQuery',
        () => [
          'mutation($p: ID!) { createCohortQuery(input: { projectId: $p, name: "x", query: "q" }) { id } }',
          { p: f.b.projectId },
        ],
      ],
      [
        'createProject (a new project would be outside its claim)',
        () => ['mutation { createProject(input: { name: "mine" }) { id } }', {}],
      ],
    ] as Array<[string, () => [string, Record<string, unknown>]]>)(
      'in project B: %s is FORBIDDEN and writes nothing',
      async (_label, call) => {
        const before = await f.state();
        const [mutation, variables] = call();
        const response = await f.as(researcherA)(mutation, variables);
        expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
        expect(await f.state()).toEqual(before);
      },
    );

    it("sees only A's jobs, models and cohort queries; B's busy net shows BUSY with job null", async () => {
      const read = f.as(researcherA);
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
          byName: netByName(name: "${f.netOfB}") { scheduler { status job { id } } }
          netByModel(modelId: $ma) { name }
        }`,
        { jb: f.jobB, ja: f.jobA, mb: f.modelB, ma: f.modelA },
      );
      expect(errors).toBeUndefined();
      const busy = (net: string, job: string | null) => ({ status: 'BUSY', net: { name: net }, job: job ? { id: job } : null });
      const expectedSchedulers = [busy(f.netOfA, f.jobA), busy(f.netOfB, null)].sort((x, y) =>
        x.net.name.localeCompare(y.net.name),
      );
      expect(data).toEqual({
        jobs: [{ id: f.jobA }],
        hiddenByModel: [],
        jb: null,
        ja: { id: f.jobA, model: { id: f.modelA } },
        mb: null,
        ma: { id: f.modelA },
        projects: [{ id: f.a.projectId }],
        nets: expectedSchedulers.map(({ net, ...scheduler }) => ({ name: net.name, scheduler })),
        schedulers: expectedSchedulers,
        deploymentStatus: { busyNets: 2, schedulers: expectedSchedulers },
        byName: { scheduler: { status: 'BUSY', job: null } },
        netByModel: { name: f.netOfA },
      });
      const details = await read('query($m: ID!) { trainingDetails(modelId: $m) { projectId cohortQuery { query } } }', {
        m: f.modelB,
      });
      expect(details.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(details.data ?? null).toBeNull();
      const own = await read('query($m: ID!) { trainingDetails(modelId: $m) { projectId cohortQuery { query } } }', {
        m: f.modelA,
      });
      expect(own.data).toEqual({ trainingDetails: { projectId: f.a.projectId, cohortQuery: { query: f.a.cohortQuery } } });
      const netOfHidden = await read('query($m: ID!) { netByModel(modelId: $m) { name } }', { m: f.modelB });
      expect(netOfHidden.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    });

    it("pages its jobs correctly: B's older job is left out before the limit, not after", async () => {
      const read = f.as(researcherA);
      const first = await read('{ jobs(first: 1) { id } }');
      expect(first.data).toEqual({ jobs: [{ id: f.jobA }] });
      const next = await read('query($after: ID!) { jobs(first: 1, after: $after) { id } }', { after: f.jobA });
      expect(next.data).toEqual({ jobs: [{ id: f.jobA2 }] });
    });
  });

  it('a researcher token without a projects claim sees nothing and may do nothing', async () => {
    const nobody = f.as(await testToken(['researcher']));
    const { data } = await nobody(
      'query($m: ID!, $j: ID!) { jobs { id } projects { id } model(id: $m) { id } job(id: $j) { id } nets { scheduler { status job { id } } } }',
      { m: f.modelA, j: f.jobA },
    );
    expect(data).toEqual({
      jobs: [],
      projects: [],
      model: null,
      job: null,
      nets: [{ scheduler: { status: 'BUSY', job: null } }, { scheduler: { status: 'BUSY', job: null } }],
    });
    const details = await nobody('query($m: ID!) { trainingDetails(modelId: $m) { projectId } }', { m: f.modelA });
    expect(details.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const before = await f.state();
    const stop = await nobody('mutation($m: ID!) { stopTraining(modelId: $m) { id } }', { m: f.modelA });
    expect(stop.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await f.state()).toEqual(before);
  });

  it.each([
    ['viewer', () => testToken(['viewer'])],
    ['admin', () => testToken(['admin'])],
    [
      'viewer who is also a researcher of A',
      () => testToken(['viewer', 'researcher'], { claims: { projects: [f.a.projectId] } }),
    ],
  ])('%s sees every project, job and model', async (_label, token) => {
    const { data, errors } = await f.as(await token())(
      'query($mb: ID!) { jobs { id } projects { id } model(id: $mb) { id } trainingDetails(modelId: $mb) { projectId } nets { scheduler { job { id } } } }',
      { mb: f.modelB },
    );
    expect(errors).toBeUndefined();
    const seen = data as {
      jobs: Array<{ id: string }>;
      projects: Array<{ id: string }>;
      nets: Array<{ scheduler: { job: { id: string } | null } }>;
    };
    expect(seen.jobs.map((j) => j.id)).toEqual([f.jobB, f.jobA, f.jobA2]);
    expect(seen.projects.map((p) => p.id).sort()).toEqual([f.a.projectId, f.b.projectId].sort());
    expect(data?.model).toEqual({ id: f.modelB });
    expect(data?.trainingDetails).toEqual({ projectId: f.b.projectId });
    expect(seen.nets.map((n) => n.scheduler.job?.id).sort()).toEqual([f.jobA, f.jobB].sort());
  });

  it("a viewer's rights do not widen what a researcher may change", async () => {
    const token = await testToken(['viewer', 'researcher'], { claims: { projects: [f.a.projectId] } });
    const before = await f.state();
    const response = await f.as(token)('mutation($m: ID!) { stopTraining(modelId: $m) { id } }', { m: f.modelB });
    expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await f.state()).toEqual(before);
  });

  it('concurrent nets reads (one shared database read) each get their own view', async () => {
    const viewer = await testToken(['viewer']);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => f.as(i % 2 ? viewer : researcherA)('{ nets { name scheduler { job { id } } } }')),
    );
    for (const [i, answer] of answers.entries()) {
      const jobs = (answer.data as { nets: Array<{ name: string; scheduler: { job: { id: string } | null } }> }).nets.map((n) => [
        n.name,
        n.scheduler.job?.id ?? null,
      ]);
      const expected =
        i % 2
          ? [
              [f.netOfA, f.jobA],
              [f.netOfB, f.jobB],
            ]
          : [
              [f.netOfA, f.jobA],
              [f.netOfB, null],
            ];
      expect(jobs.sort()).toEqual(expected.sort());
    }
  });

  it('a researcher of A acts in its own project (last: it adds rows the views above count): creates a model and a cohort query, queues, removes', async () => {
    const act = f.as(researcherA);
    const created = await act(
      'mutation($p: ID!, $t: [ID!]!) { createModel(input: { projectId: $p, name: "own", approvedTrustIds: $t }) { id project { id } } }',
      { p: f.a.projectId, t: f.a.trustIds },
    );
    expect(created.errors).toBeUndefined();
    const model = (created.data as { createModel: { id: string; project: { id: string } } }).createModel;
    expect(model.project.id).toBe(f.a.projectId);
    const cohort = await act(
      'mutation($p: ID!) { createCohortQuery(input: { projectId: $p, name: "c2", query: "q2" }) { id } }',
      {
        p: f.a.projectId,
      },
    );
    expect(cohort.errors).toBeUndefined();
    const queued = await act('mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id status } }', {
      m: model.id,
      t: f.a.trustIds,
    });
    expect((queued.data as { queueTraining: { status: string } }).queueTraining.status).toBe('QUEUED');
    const removed = await act('mutation($m: ID!) { removeJobsForModel(modelId: $m) }', { m: model.id });
    expect(removed.data).toEqual({ removeJobsForModel: 1 });
  });
});
