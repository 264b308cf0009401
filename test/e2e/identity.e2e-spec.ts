import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, testToken, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
const NET_NAMES = ['net-1', 'net-2'];

interface SchedulerView {
  status: string;
  net: { name: string };
  job: { id: string } | null;
}

/**
 * Two projects, A and B, each with a model running on one of two nets (B's
 * job queued first), and a second model of A queued behind them. Net tokens
 * and researcher tokens then try what they may and may not do.
 */
describe('identity: a net reports only on its own runs, a researcher sees and acts only on its projects', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let fakeNets: FakeNet[];
  let a: Scenario;
  let b: Scenario;
  let modelA: string;
  let modelA2: string;
  let modelB: string;
  let jobA: string;
  let jobA2: string;
  let jobB: string;
  let netOfA: string;
  let netOfB: string;
  let researcherA: string;

  const as = (token: string | null) => (query: string, variables?: Record<string, unknown>) => hub.gql(query, variables, token);

  /** What a refused call must leave untouched: every job, model, net, project and cohort query. */
  async function state(): Promise<unknown> {
    const read = async (text: string) => (await db.pool.query(text)).rows;
    return {
      jobs: await read('select id, status, net_id, model_id from job order by seq'),
      models: await read('select id, status, project_id, name from model order by id'),
      schedulers: await read('select net_id, status, job_id from scheduler order by net_id'),
      projects: await read('select id from project order by id'),
      cohortQueries: await read('select id from cohort_query order by id'),
    };
  }

  async function netRunning(jobId: string): Promise<string> {
    const { rows } = await db.pool.query<{ name: string }>(
      `select n.name from job j join net n on n.id = j.net_id where j.id = $1 and j.status = 'IN_PROGRESS'`,
      [jobId],
    );
    expect(rows).toHaveLength(1);
    return rows[0].name;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    fakeNets = await Promise.all(NET_NAMES.map(() => startFakeNet({ clients: SLOTS })));
    hub = await startTestHub(db.url, {
      netEndpoints: NET_NAMES.map((name, i) => ({ name, endpoint: fakeNets[i].url })),
      kitSlots: SLOTS,
    });
    a = await createScenario(hub);
    b = await createScenario(hub);
    modelB = await b.newModel();
    jobB = await b.queue(modelB);
    modelA = await a.newModel();
    jobA = await a.queue(modelA);
    const { runPickupCycle } = await hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(
      'mutation { runPickupCycle { started { id } } }',
    );
    expect(runPickupCycle.started.map((j) => j.id).sort()).toEqual([jobA, jobB].sort());
    modelA2 = await a.newModel();
    jobA2 = await a.queue(modelA2); // both nets busy: it stays QUEUED
    netOfA = await netRunning(jobA);
    netOfB = await netRunning(jobB);
    researcherA = await testToken(['researcher'], { claims: { projects: [a.projectId] } });
  });

  afterAll(async () => {
    await hub?.close();
    await Promise.all((fakeNets ?? []).map((net) => net.close()));
    await db?.drop();
  });

  describe('net tokens', () => {
    it.each([
      ['completeTraining', 'mutation($m: ID!) { completeTraining(modelId: $m) { id } }'],
      [
        'updateModelStatus (ending the run)',
        'mutation($m: ID!) { updateModelStatus(modelId: $m, status: RESULTS_UPLOADED) { id } }',
      ],
      ['updateModelStatus (not ending it)', 'mutation($m: ID!) { updateModelStatus(modelId: $m, status: RUNNING) { id } }'],
    ])("another net's run: %s is FORBIDDEN and changes nothing", async (_label, mutation) => {
      const before = await state();
      const response = await as(await testToken(['net'], { claims: { net: netOfA } }))(mutation, { m: modelB });
      expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(response.errors?.[0].message).toContain(netOfA);
      expect(await state()).toEqual(before);
      const { job, schedulers } = await hub.gqlOk<{ job: { status: string }; schedulers: SchedulerView[] }>(
        'query($j: ID!) { job(id: $j) { status } schedulers { status net { name } job { id } } }',
        { j: jobB },
      );
      expect(job.status).toBe('IN_PROGRESS');
      expect(schedulers.find((s) => s.net.name === netOfB)).toEqual({ status: 'BUSY', net: { name: netOfB }, job: { id: jobB } });
    });

    it.each([
      ['without a net claim', () => testToken(['net'])],
      ['naming an unknown net', () => testToken(['net'], { claims: { net: 'net-9' } })],
      [
        'holding researcher rights in the project too',
        () => testToken(['net', 'researcher'], { claims: { net: netOfA, projects: [b.projectId] } }),
      ],
    ])('a net token %s cannot report on a run', async (_label, token) => {
      const before = await state();
      const response = await as(await token())('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelB });
      expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(await state()).toEqual(before);
    });

    it('a model with no running job: no net may report on it (a queued job has no net yet)', async () => {
      const before = await state();
      for (const net of NET_NAMES) {
        const token = await testToken(['net'], { claims: { net } });
        const response = await as(token)('mutation($m: ID!) { updateModelStatus(modelId: $m, status: ERROR) { id } }', {
          m: modelA2,
        });
        expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      }
      expect(await state()).toEqual(before);
    });
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

  it.each([
    ['projects is not a list', { projects: '00000000-0000-4000-8000-000000000000' }],
    ['projects holds a number', { projects: [1] }],
    ['projects holds a non-UUID', { projects: ['project-a'] }],
    ['net is not a string', { net: 5 }],
    ['net is empty', { net: ' ' }],
  ])('a token whose claim is malformed is UNAUTHENTICATED: %s', async (_label, claims) => {
    const response = await as(await testToken(['researcher', 'net'], { claims }))('{ projects { id } }');
    expect(response.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.data ?? null).toBeNull();
  });

  it("a net token reports on its own net's run: status, then completion; the net is freed", async () => {
    const own = as(await testToken(['net'], { claims: { net: netOfB } }));
    const status = await own('mutation($m: ID!) { updateModelStatus(modelId: $m, status: RUNNING) { status } }', { m: modelB });
    expect(status.data).toEqual({ updateModelStatus: { status: 'RUNNING' } });
    const completed = await own('mutation($m: ID!) { completeTraining(modelId: $m) { id status } }', { m: modelB });
    expect(completed.data).toEqual({ completeTraining: { id: jobB, status: 'COMPLETED' } });
    const { rows } = await db.pool.query(
      'select s.status, s.job_id from scheduler s join net n on n.id = s.net_id where n.name = $1',
      [netOfB],
    );
    expect(rows).toEqual([{ status: 'AVAILABLE', job_id: null }]);
    // its run is over: a repeat is a report on a run it no longer has
    const again = await own('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelB });
    expect(again.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // A's run on the other net was not touched
    expect(await netRunning(jobA)).toBe(netOfA);
  });

  it("a net's report cannot race a move of the run: the check holds the job's row until the write commits", async () => {
    // stands in for recovery + a new claim in one step (jobA moves to the net freed above); the
    // report arrives while that transaction holds the job's row, and must judge the job as it ends up
    const mover = await db.pool.connect();
    try {
      await mover.query('begin');
      await mover.query(`update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null where job_id = $1`, [jobA]);
      await mover.query(`update job set net_id = (select id from net where name = $2) where id = $1`, [jobA, netOfB]);
      await mover.query(`update scheduler set status = 'BUSY', job_id = $1 where net_id = (select id from net where name = $2)`, [
        jobA,
        netOfB,
      ]);
      const before = (await db.pool.query('select status from model where id = $1', [modelA])).rows;
      const report = as(await testToken(['net'], { claims: { net: netOfA } }))(
        'mutation($m: ID!) { updateModelStatus(modelId: $m, status: RUNNING) { status } }',
        { m: modelA },
      );
      let settled = false;
      void report.finally(() => (settled = true));
      const waiting = async () =>
        (await db.pool.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`))
          .rowCount !== 0;
      const deadline = Date.now() + 10_000;
      // until the report waits for the row (or, were the check not locking, has already answered)
      while (!settled && !(await waiting())) {
        if (Date.now() > deadline) throw new Error('the report neither waited for the job row nor answered');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await mover.query('commit');
      const response = await report;
      expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await db.pool.query('select status from model where id = $1', [modelA])).rows).toEqual(before);
      expect(await netRunning(jobA)).toBe(netOfB);
    } finally {
      mover.release();
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
