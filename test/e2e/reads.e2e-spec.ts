import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import {
  creator,
  expectError,
  UNKNOWN_ID,
  type ModelView,
  type ProjectView,
  type SchedulerView,
  type TrustView,
} from '../support/gql.js';
import { startTestHub, type TestHub } from '../support/hub.js';

/** Every query of the foundation, through /graphql, checked against the rows in the database. */

interface NetView {
  id: string;
  name: string;
  endpoint: string;
  flBackend: 'NVFLARE' | 'FLOWER';
  scheduler: { id: string; status: 'AVAILABLE' | 'BUSY' };
}
interface JobView {
  id: string;
  status: 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED' | 'DELETED';
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  backendJobId: string | null;
  queuePosition: number | null;
  model: { id: string; name: string; project: ProjectView };
  trusts: TrustView[];
  net: { id: string; name: string } | null;
}

const NET_FIELDS = 'id name endpoint flBackend scheduler { id status }';
const JOB_FIELDS = `id status createdAt startedAt completedAt backendJobId queuePosition
  model { id name project { id name } } trusts { id name slotName } net { id name }`;

/** A DateTime from the API is the instant stored in the database (to the millisecond). */
function expectSameInstant(iso: string | null | undefined, stored: Date): void {
  expect(typeof iso).toBe('string');
  expect(Math.abs(Date.parse(iso as string) - stored.getTime())).toBeLessThanOrEqual(1);
}

/** The nets' ids by name. */
async function netIds(hub: TestHub): Promise<Record<string, string>> {
  const { nets } = await hub.gqlOk<{ nets: Array<{ id: string; name: string }> }>('{ nets { id name } }');
  return Object.fromEntries(nets.map((n) => [n.name, n.id]));
}

/**
 * Starts the QUEUED job `jobId` on the net `netName` the way the hub does: the other nets drained, a pickup
 * cycle (the claim, then the start on the fake net), the other nets resumed. The job must be the queue's oldest.
 */
async function runOnNet(hub: TestHub, jobId: string, netName: string): Promise<void> {
  const ids = await netIds(hub);
  const others = Object.entries(ids).filter(([name]) => name !== netName);
  for (const [, id] of others) await hub.gqlOk('mutation($id: ID!) { drainNet(netId: $id) { id } }', { id });
  try {
    const { runPickupCycle } = await hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }>; failed: unknown[] } }>(
      'mutation { runPickupCycle { started { id } failed { id } } }',
    );
    if (runPickupCycle.started.length !== 1 || runPickupCycle.started[0].id !== jobId) {
      throw new Error(`expected job ${jobId} to start on ${netName}, the cycle answered ${JSON.stringify(runPickupCycle)}`);
    }
  } finally {
    for (const [, id] of others) await hub.gqlOk('mutation($id: ID!) { resumeNet(netId: $id) { id } }', { id });
  }
}

/** Ends the model's running job through the hub: COMPLETED, its net AVAILABLE again. */
async function completeOnNet(hub: TestHub, modelId: string): Promise<void> {
  await hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
}

/** Removes a job through the hub (DELETED). */
async function removeJob(hub: TestHub, jobId: string): Promise<void> {
  await hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { id } }', { id: jobId });
}

async function column<T>(pool: pg.Pool, statement: string, params: unknown[] = []): Promise<T[]> {
  const result = await pool.query<{ value: T }>(statement, params);
  return result.rows.map((row) => row.value);
}

/** The SQL statements the hub sends while `work` runs (every pg client of this process). */
async function countStatements(work: () => Promise<unknown>): Promise<number> {
  const spy = jest.spyOn(pg.Client.prototype, 'query');
  try {
    await work();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe('queries', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let make: ReturnType<typeof creator>;
  let alpha: TrustView, bravo: TrustView, charlie: TrustView, delta: TrustView;
  let oncology: ProjectView, cardiology: ProjectView;
  let modelWithQuery: { id: string };
  let modelWithoutQuery: { id: string };
  /** a model of its own for the jobs that run (a run changes its model's status) */
  let runningModel: { id: string };
  const fakeNets: Record<string, FakeNet> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const name of ['net-a', 'net-b']) fakeNets[name] = await startFakeNet({ clients: ['slot-1', 'slot-2', 'slot-3'] });
    hub = await startTestHub(db.url, {
      // listed out of order: `nets` sorts by name
      netEndpoints: [
        { name: 'net-b', endpoint: fakeNets['net-b'].url },
        { name: 'net-a', endpoint: fakeNets['net-a'].url },
      ],
      kitSlots: ['slot-1', 'slot-2', 'slot-3'],
    });
    make = creator(hub);
    alpha = await make.trust('Alpha');
    bravo = await make.trust('Bravo');
    charlie = await make.trust('Charlie');
    delta = await make.trust('Delta'); // no kit slot left
    oncology = await make.project('Oncology');
    cardiology = await make.project('Cardiology');
    await make.cohortQuery(oncology.id, 'first', 'select 1');
    await make.cohortQuery(oncology.id, 'second', 'select 2');
    modelWithQuery = await make.model(oncology.id, 'Tumour model', [alpha.id, bravo.id, delta.id]);
    modelWithoutQuery = await make.model(cardiology.id, 'Heart model', [charlie.id]);
    runningModel = await make.model(oncology.id, 'Running model', [alpha.id, bravo.id, charlie.id]);
  });

  afterAll(async () => {
    await hub?.close();
    await db?.drop();
    await Promise.all(Object.values(fakeNets).map((net) => net.close()));
  });

  it('seeds the trusts with the lowest free kit slots', () => {
    expect([alpha, bravo, charlie, delta].map((t) => t.slotName)).toEqual(['slot-1', 'slot-2', 'slot-3', null]);
  });

  describe('nets', () => {
    it('lists every net sorted by name, with its endpoint, backend and AVAILABLE scheduler', async () => {
      const { nets } = await hub.gqlOk<{ nets: NetView[] }>(`{ nets { ${NET_FIELDS} } }`);
      expect(nets.map((n) => [n.name, n.endpoint, n.flBackend, n.scheduler.status])).toEqual([
        ['net-a', fakeNets['net-a'].url, 'NVFLARE', 'AVAILABLE'],
        ['net-b', fakeNets['net-b'].url, 'NVFLARE', 'AVAILABLE'],
      ]);
      const rows = await db.pool.query<{ id: string; schedulerId: string }>(
        'select n.id, s.id as "schedulerId" from net n join scheduler s on s.net_id = n.id order by n.name',
      );
      expect(nets.map((n) => ({ id: n.id, schedulerId: n.scheduler.id }))).toEqual(rows.rows);
    });

    describe('on a hub started without NET_ENDPOINTS, then with FL_BACKEND=flower', () => {
      let other: TestDatabase;

      beforeAll(async () => {
        other = await createTestDatabase();
      });

      afterAll(async () => {
        await other?.drop();
      });

      it('answers NOT_FOUND while no net is registered', async () => {
        const empty = await startTestHub(other.url, { netEndpoints: [] });
        try {
          const nets = await empty.gql('{ nets { id } }');
          expectError(nets, 'NOT_FOUND');
          expect(nets.data).toBeNull();
          expectError(await empty.gql('{ flBackend }'), 'NOT_FOUND');
          expect(await empty.gqlOk('{ schedulers { id } }')).toEqual({ schedulers: [] });
          expect(await empty.gqlOk('{ netByName(name: "net-a") { id } }')).toEqual({ netByName: null });
        } finally {
          await empty.close();
        }
      });

      it('seeds FLOWER nets, each with one AVAILABLE scheduler, and reads the backend from them', async () => {
        const flower = await startTestHub(other.url, {
          netEndpoints: [
            { name: 'flower-2', endpoint: 'http://127.0.0.1:9102' },
            { name: 'flower-1', endpoint: 'http://127.0.0.1:9101' },
          ],
          flBackend: 'flower',
        });
        try {
          const { nets } = await flower.gqlOk<{ nets: NetView[] }>(`{ nets { ${NET_FIELDS} } }`);
          expect(nets.map((n) => [n.name, n.flBackend, n.scheduler.status])).toEqual([
            ['flower-1', 'FLOWER', 'AVAILABLE'],
            ['flower-2', 'FLOWER', 'AVAILABLE'],
          ]);
          expect(await flower.gqlOk('{ flBackend }')).toEqual({ flBackend: 'FLOWER' });
          expect(await flower.gqlOk('query($id: ID) { flBackend(netId: $id) }', { id: nets[1].id })).toEqual({
            flBackend: 'FLOWER',
          });
          expect(await column(other.pool, 'select fl_backend as value from net order by name')).toEqual(['flower', 'flower']);
          expect(await column(other.pool, 'select count(*)::int as value from scheduler')).toEqual([2]);
        } finally {
          await flower.close();
        }
      });
    });
  });

  describe('netByName', () => {
    it('returns the net with that name', async () => {
      const { netByName } = await hub.gqlOk<{ netByName: NetView }>(`{ netByName(name: "net-b") { ${NET_FIELDS} } }`);
      const [id] = await column<string>(db.pool, `select id as value from net where name = 'net-b'`);
      expect(netByName).toMatchObject({ id, name: 'net-b', endpoint: fakeNets['net-b'].url, flBackend: 'NVFLARE' });
      expect(netByName.scheduler.status).toBe('AVAILABLE');
    });

    it('returns null, without an error, for an unknown name', async () => {
      const response = await hub.gql('{ netByName(name: "net-z") { id } }');
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual({ netByName: null });
    });
  });

  describe('netByModel', () => {
    const NET_BY_MODEL = 'query($modelId: ID!) { netByModel(modelId: $modelId) { id name } }';

    it('is NOT_FOUND while the model has no running job, and for an unknown model', async () => {
      const jobId = await make.job(modelWithoutQuery.id, [charlie.id]);
      try {
        expectError(await hub.gql(NET_BY_MODEL, { modelId: modelWithoutQuery.id }), 'NOT_FOUND');
        expectError(await hub.gql(NET_BY_MODEL, { modelId: UNKNOWN_ID }), 'NOT_FOUND');
      } finally {
        await removeJob(hub, jobId);
      }
    });

    it('returns the net the IN_PROGRESS job runs on, and NOT_FOUND again once it completed', async () => {
      const jobId = await make.job(runningModel.id, [alpha.id]);
      await runOnNet(hub, jobId, 'net-b');
      try {
        const { netByModel } = await hub.gqlOk<{ netByModel: { id: string; name: string } }>(NET_BY_MODEL, {
          modelId: runningModel.id,
        });
        const [netId] = await column<string>(db.pool, 'select net_id as value from job where id = $1', [jobId]);
        expect(netByModel).toEqual({ id: netId, name: 'net-b' });
      } finally {
        await completeOnNet(hub, runningModel.id);
      }
      expectError(await hub.gql(NET_BY_MODEL, { modelId: runningModel.id }), 'NOT_FOUND');
    });

    it('is BAD_USER_INPUT for a malformed model id', async () => {
      expectError(await hub.gql(NET_BY_MODEL, { modelId: 'not-a-uuid' }), 'BAD_USER_INPUT');
    });
  });

  describe('flBackend', () => {
    const FL_BACKEND = 'query($netId: ID) { flBackend(netId: $netId) }';
    const netId = async (name: string): Promise<string> =>
      (await column<string>(db.pool, 'select id as value from net where name = $1', [name]))[0];

    it('returns the given net’s backend, and any net’s without a net id', async () => {
      expect(await hub.gqlOk(FL_BACKEND, { netId: await netId('net-a') })).toEqual({ flBackend: 'NVFLARE' });
      expect(await hub.gqlOk(FL_BACKEND, { netId: null })).toEqual({ flBackend: 'NVFLARE' });
      expect(await hub.gqlOk('{ flBackend }')).toEqual({ flBackend: 'NVFLARE' });
    });

    it('reads the backend from the net row, not from the configuration', async () => {
      await db.pool.query(`update net set fl_backend = 'flower' where name = 'net-b'`);
      try {
        expect(await hub.gqlOk(FL_BACKEND, { netId: await netId('net-b') })).toEqual({ flBackend: 'FLOWER' });
        expect(await hub.gqlOk(FL_BACKEND, { netId: await netId('net-a') })).toEqual({ flBackend: 'NVFLARE' });
      } finally {
        await db.pool.query(`update net set fl_backend = 'nvflare' where name = 'net-b'`);
      }
    });

    it.each([
      ['an unknown net id', 'NOT_FOUND', UNKNOWN_ID],
      ['a malformed net id', 'BAD_USER_INPUT', 'net-a'],
      ['an empty net id', 'BAD_USER_INPUT', ''],
    ])('answers %s with %s', async (_label, code, id) => {
      expectError(await hub.gql(FL_BACKEND, { netId: id }), code);
    });
  });

  describe('schedulers', () => {
    it('lists one AVAILABLE scheduler per net, by net name', async () => {
      const { schedulers } = await hub.gqlOk<{ schedulers: SchedulerView[] }>(
        '{ schedulers { id status net { id name } job { id } } }',
      );
      expect(schedulers.map((s) => [s.net.name, s.status, s.job])).toEqual([
        ['net-a', 'AVAILABLE', null],
        ['net-b', 'AVAILABLE', null],
      ]);
      const rows = await db.pool.query<{ id: string; netId: string }>(
        'select s.id, s.net_id as "netId" from scheduler s join net n on n.id = s.net_id order by n.name',
      );
      expect(schedulers.map((s) => ({ id: s.id, netId: s.net.id }))).toEqual(rows.rows);
    });

    it('shows a BUSY scheduler with its job', async () => {
      const jobId = await make.job(runningModel.id, [bravo.id]);
      await runOnNet(hub, jobId, 'net-a');
      try {
        const { schedulers } = await hub.gqlOk<{ schedulers: SchedulerView[] }>(
          '{ schedulers { id status net { id name } job { id } } }',
        );
        expect(schedulers.map((s) => [s.net.name, s.status, s.job?.id ?? null])).toEqual([
          ['net-a', 'BUSY', jobId],
          ['net-b', 'AVAILABLE', null],
        ]);
      } finally {
        await completeOnNet(hub, runningModel.id);
      }
    });
  });

  describe('job and jobs', () => {
    const JOB = `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
    const JOBS = `query($status: JobStatus, $modelId: ID) { jobs(status: $status, modelId: $modelId) { ${JOB_FIELDS} } }`;
    const listJobs = async (variables: { status?: string; modelId?: string } = {}): Promise<JobView[]> =>
      (await hub.gqlOk<{ jobs: JobView[] }>(JOBS, variables)).jobs;

    // first in this block: a job is started as the oldest in the queue
    it('filters by status, by model, and by both', async () => {
      // each state through the hub; one live job per model: the model's ended jobs first, then its running
      // one; the queued one is another model's
      const model = await make.model(oncology.id, 'Filter model', [charlie.id]);
      const otherModel = await make.model(oncology.id, 'Filter model, queued', [charlie.id]);
      const completed = await make.job(model.id, [charlie.id]);
      await runOnNet(hub, completed, 'net-a');
      await completeOnNet(hub, model.id);
      const deleted = await make.job(model.id, [charlie.id]);
      await removeJob(hub, deleted);
      const running = await make.job(model.id, [charlie.id]);
      await runOnNet(hub, running, 'net-a');
      const queued = await make.job(otherModel.id, [charlie.id]);
      try {
        for (const status of ['QUEUED', 'IN_PROGRESS', 'COMPLETED', 'DELETED']) {
          const expected = await column<string>(db.pool, 'select id as value from job where status = $1 order by seq', [status]);
          const listed = await listJobs({ status });
          expect(listed.map((j) => j.id)).toEqual(expected);
          expect(listed.every((j) => j.status === status)).toBe(true);
        }
        expect((await listJobs({ modelId: model.id })).map((j) => [j.id, j.status])).toEqual([
          [completed, 'COMPLETED'],
          [deleted, 'DELETED'],
          [running, 'IN_PROGRESS'],
        ]);
        expect((await listJobs({ modelId: otherModel.id })).map((j) => [j.id, j.status])).toEqual([[queued, 'QUEUED']]);
        expect((await listJobs({ modelId: model.id, status: 'COMPLETED' })).map((j) => j.id)).toEqual([completed]);
        expect(await listJobs({ modelId: UNKNOWN_ID })).toEqual([]);

        const [runningJob] = await listJobs({ modelId: model.id, status: 'IN_PROGRESS' });
        const [startedAt] = await column<Date>(db.pool, 'select started_at as value from job where id = $1', [running]);
        expect(runningJob.net?.name).toBe('net-a');
        expectSameInstant(runningJob.startedAt, startedAt);
        expect(runningJob.queuePosition).toBeNull();
        const [completedJob] = await listJobs({ modelId: model.id, status: 'COMPLETED' });
        const [completedAt] = await column<Date>(db.pool, 'select completed_at as value from job where id = $1', [completed]);
        expectSameInstant(completedJob.completedAt, completedAt);
      } finally {
        await completeOnNet(hub, model.id);
      }
    });

    it('returns one job with its model, project, trusts (with slot names), no net and its queue position', async () => {
      const jobId = await make.job(modelWithQuery.id, [delta.id, alpha.id]);
      const { job } = await hub.gqlOk<{ job: JobView }>(JOB, { id: jobId });
      const [queued] = await column<number>(db.pool, `select count(*)::int as value from job where status = 'QUEUED'`);
      const [createdAt] = await column<Date>(db.pool, 'select created_at as value from job where id = $1', [jobId]);
      expectSameInstant(job.createdAt, createdAt);
      expect(job).toEqual({
        id: jobId,
        status: 'QUEUED',
        createdAt: job.createdAt,
        startedAt: null,
        completedAt: null,
        backendJobId: null,
        queuePosition: queued, // the newest queued job is last in the queue
        model: { id: modelWithQuery.id, name: 'Tumour model', project: oncology },
        trusts: [alpha, delta],
        net: null,
      });
    });

    it('returns null, without an error, for an unknown id; BAD_USER_INPUT for a malformed one', async () => {
      const unknown = await hub.gql(JOB, { id: UNKNOWN_ID });
      expect(unknown.errors).toBeUndefined();
      expect(unknown.data).toEqual({ job: null });
      expectError(await hub.gql(JOB, { id: '1234' }), 'BAD_USER_INPUT');
    });

    it('lists every job oldest first', async () => {
      // one live job per model: a model each
      const models = [
        await make.model(oncology.id, 'Ordering model 1', [alpha.id, bravo.id]),
        await make.model(oncology.id, 'Ordering model 2', [alpha.id, bravo.id]),
        await make.model(oncology.id, 'Ordering model 3', [alpha.id, bravo.id]),
      ];
      const created = [
        await make.job(models[0].id, [alpha.id]),
        await make.job(models[1].id, [bravo.id]),
        await make.job(models[2].id, [alpha.id, bravo.id]),
      ];
      for (const [i, model] of models.entries()) {
        expect((await listJobs({ modelId: model.id })).map((j) => j.id)).toEqual([created[i]]);
      }
      const all = await listJobs();
      expect(all.map((j) => j.id)).toEqual(await column<string>(db.pool, 'select id as value from job order by seq'));
      expect(all.slice(-3).map((j) => j.id)).toEqual(created);
    });

    it('numbers the QUEUED jobs 1..n in queue order, and gives every other job a null position', async () => {
      const all = await listJobs();
      const queued = all.filter((j) => j.status === 'QUEUED');
      expect(queued.length).toBeGreaterThan(3);
      expect(queued.map((j) => j.queuePosition)).toEqual(queued.map((_, i) => i + 1));
      const others = all.filter((j) => j.status !== 'QUEUED');
      expect(others.length).toBeGreaterThan(0);
      expect(others.every((j) => j.queuePosition === null)).toBe(true);
      const { jobs } = await hub.gqlOk<{ jobs: Array<{ id: string; queuePosition: number }> }>(
        '{ jobs(status: QUEUED) { id queuePosition } }',
      );
      expect(jobs).toEqual(queued.map((j) => ({ id: j.id, queuePosition: j.queuePosition })));
    });

    it('answers a malformed modelId filter and an unknown status with BAD_USER_INPUT', async () => {
      expectError(await hub.gql(JOBS, { modelId: 'model-1' }), 'BAD_USER_INPUT');
      expectError(await hub.gql(JOBS, { status: 'RUNNING' }), 'BAD_USER_INPUT');
    });
  });

  describe('trusts', () => {
    it('lists every trust by name with its kit slot name', async () => {
      const { trusts } = await hub.gqlOk<{ trusts: TrustView[] }>('{ trusts { id name slotName } }');
      expect(trusts).toEqual([alpha, bravo, charlie, delta]);
      const rows = await db.pool.query<TrustView>(
        `select t.id, t.name, k.slot_name as "slotName" from trust t left join kit_slot k on k.assigned_trust_id = t.id order by t.name`,
      );
      expect(trusts).toEqual(rows.rows);
    });
  });

  describe('trustSlotNames', () => {
    const SLOT_NAMES = 'query($ids: [ID!]!) { trustSlotNames(trustIds: $ids) { trustId slotName } }';
    const slotNames = async (ids: string[]): Promise<Array<{ trustId: string; slotName: string }>> =>
      (await hub.gqlOk<{ trustSlotNames: Array<{ trustId: string; slotName: string }> }>(SLOT_NAMES, { ids })).trustSlotNames;

    it('answers an empty list with an empty list, without a database query', async () => {
      let result: unknown;
      const statements = await countStatements(async () => {
        result = await slotNames([]);
      });
      expect(result).toEqual([]);
      expect(statements).toBe(0);
    });

    it('maps trusts to their slot names in the order asked, leaving out trusts without a slot and unknown ids', async () => {
      expect(await slotNames([charlie.id, delta.id, UNKNOWN_ID, alpha.id])).toEqual([
        { trustId: charlie.id, slotName: 'slot-3' },
        { trustId: alpha.id, slotName: 'slot-1' },
      ]);
      expect(await slotNames([alpha.id, charlie.id])).toEqual([
        { trustId: alpha.id, slotName: 'slot-1' },
        { trustId: charlie.id, slotName: 'slot-3' },
      ]);
      expect(await slotNames([delta.id])).toEqual([]);
    });

    it('answers a malformed id with BAD_USER_INPUT', async () => {
      expectError(await hub.gql(SLOT_NAMES, { ids: [alpha.id, 'slot-1'] }), 'BAD_USER_INPUT');
    });
  });

  describe('trainingDetails', () => {
    const DETAILS =
      'query($modelId: ID!) { trainingDetails(modelId: $modelId) { modelId projectId cohortQuery { id name query createdAt } } }';

    it('returns the model’s project and the newest cohort query of that project', async () => {
      const { trainingDetails } = await hub.gqlOk<{
        trainingDetails: {
          modelId: string;
          projectId: string;
          cohortQuery: { id: string; name: string; query: string; createdAt: string };
        };
      }>(DETAILS, { modelId: modelWithQuery.id });
      const newest = await db.pool.query<{ id: string; createdAt: Date }>(
        `select id, created_at as "createdAt" from cohort_query where project_id = $1 and name = 'second'`,
        [oncology.id],
      );
      expectSameInstant(trainingDetails.cohortQuery.createdAt, newest.rows[0].createdAt);
      expect(trainingDetails).toEqual({
        modelId: modelWithQuery.id,
        projectId: oncology.id,
        cohortQuery: {
          id: newest.rows[0].id,
          name: 'second',
          query: 'select 2',
          createdAt: trainingDetails.cohortQuery.createdAt,
        },
      });
    });

    it('follows a newer cohort query of the project, and ignores those of other projects', async () => {
      const third = await make.cohortQuery(oncology.id, 'third', 'select 3');
      const other = await make.project('Elsewhere');
      await make.cohortQuery(other.id, 'other', 'select 4');
      const { trainingDetails } = await hub.gqlOk<{ trainingDetails: { cohortQuery: { id: string; name: string } } }>(DETAILS, {
        modelId: modelWithQuery.id,
      });
      expect(trainingDetails.cohortQuery).toEqual({ id: third.id, name: 'third', query: 'select 3', createdAt: third.createdAt });
    });

    it.each([
      ['an unknown model', 'NOT_FOUND', () => UNKNOWN_ID],
      ['a model whose project has no cohort query', 'NOT_FOUND', () => modelWithoutQuery.id],
      ['a malformed model id', 'BAD_USER_INPUT', () => 'model'],
    ])('answers %s with %s', async (_label, code, modelId) => {
      const response = await hub.gql(DETAILS, { modelId: modelId() });
      expectError(response, code);
      expect(response.data).toBeNull();
    });
  });

  describe('model', () => {
    const MODEL = 'query($id: ID!) { model(id: $id) { id name status project { id name } approvedTrusts { id name slotName } } }';

    it('returns the model with its project and approved trusts', async () => {
      const { model } = await hub.gqlOk<{ model: ModelView }>(MODEL, { id: modelWithQuery.id });
      expect(model).toEqual({
        id: modelWithQuery.id,
        name: 'Tumour model',
        status: 'PENDING',
        project: oncology,
        approvedTrusts: [alpha, bravo, delta],
      });
      const approved = await column<string>(db.pool, 'select trust_id as value from model_approved_trust where model_id = $1', [
        modelWithQuery.id,
      ]);
      expect([...approved].sort()).toEqual([alpha.id, bravo.id, delta.id].sort());
    });

    it('returns null, without an error, for an unknown id; BAD_USER_INPUT for a malformed one', async () => {
      const unknown = await hub.gql(MODEL, { id: UNKNOWN_ID });
      expect(unknown.errors).toBeUndefined();
      expect(unknown.data).toEqual({ model: null });
      expectError(await hub.gql(MODEL, { id: 'x'.repeat(36) }), 'BAD_USER_INPUT');
    });
  });
});

describe('nested fields are batched (no N+1)', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let make: ReturnType<typeof creator>;
  let trusts: TrustView[];

  const NESTED = `{ jobs { id status queuePosition model { id name project { id name } approvedTrusts { name } } trusts { name slotName } net { name scheduler { status } } } }`;

  /** `models` models over `projects` projects, `jobs` jobs spread over them. */
  async function addJobs(projects: number, models: number, jobs: number): Promise<string[]> {
    const projectIds: string[] = [];
    for (let p = 0; p < projects; p++) projectIds.push((await make.project(`Project ${p}`)).id);
    for (const projectId of projectIds) await make.cohortQuery(projectId, 'cohort', 'select 1'); // its jobs can start
    const modelIds: string[] = [];
    for (let m = 0; m < models; m++)
      modelIds.push(
        (
          await make.model(
            projectIds[m % projects],
            `Model ${m}`,
            trusts.map((t) => t.id),
          )
        ).id,
      );
    const jobIds: string[] = [];
    for (let j = 0; j < jobs; j++) jobIds.push(await make.job(modelIds[j % models], [trusts[j % trusts.length].id]));
    return jobIds;
  }

  let net: FakeNet;

  beforeAll(async () => {
    db = await createTestDatabase();
    net = await startFakeNet({ clients: ['slot-1', 'slot-2'] });
    hub = await startTestHub(db.url, { netEndpoints: [{ name: 'net-a', endpoint: net.url }], kitSlots: ['slot-1', 'slot-2'] });
    make = creator(hub);
    trusts = [await make.trust('T1'), await make.trust('T2'), await make.trust('T3')];
  });

  afterAll(async () => {
    await hub?.close();
    await db?.drop();
    await net?.close();
  });

  it('answers `jobs` with every nested field in as many statements for 30 jobs as for 3', async () => {
    const first = await addJobs(3, 3, 3);
    await runOnNet(hub, first[0], 'net-a');
    let few: Array<{ id: string }> = [];
    const statementsForFew = await countStatements(async () => {
      few = (await hub.gqlOk<{ jobs: Array<{ id: string }> }>(NESTED)).jobs;
    });

    await addJobs(9, 27, 27);
    let many: Array<{ id: string }> = [];
    const statementsForMany = await countStatements(async () => {
      many = (await hub.gqlOk<{ jobs: Array<{ id: string }> }>(NESTED)).jobs;
    });

    expect(few).toHaveLength(3);
    expect(many).toHaveLength(30);
    expect(statementsForMany).toBe(statementsForFew);
    // jobs, models, projects, approved trusts, job trusts, nets, schedulers, queue positions
    expect(statementsForFew).toBeLessThanOrEqual(8);
  });
});
