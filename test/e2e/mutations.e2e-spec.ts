import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  expectError,
  expectRejected,
  UNKNOWN_ID,
  type ModelView,
  type ProjectView,
  type SchedulerView,
  type TrustView,
} from '../support/gql.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { snapshot } from '../support/snapshot.js';

/** Every management mutation of the foundation, through /graphql, checked against the rows it writes (or must not write). */

interface JobView {
  id: string;
  status: 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED' | 'DELETED';
  startedAt: string | null;
  queuePosition: number | null;
  model: { id: string };
  trusts: TrustView[];
  net: { id: string; name: string } | null;
}

const TRUST_FIELDS = 'id name slotName';
const MODEL_FIELDS = `id name status project { id name } approvedTrusts { ${TRUST_FIELDS} }`;
const JOB_FIELDS = `id status startedAt queuePosition model { id } trusts { ${TRUST_FIELDS} } net { id name }`;
const SCHEDULER_FIELDS = 'id status net { id name } job { id }';

const CREATE_TRUST = `mutation($name: String!) { createTrust(input: { name: $name }) { ${TRUST_FIELDS} } }`;
const CREATE_PROJECT = 'mutation($name: String!) { createProject(input: { name: $name }) { id name } }';
const CREATE_MODEL = `mutation($input: CreateModelInput!) { createModel(input: $input) { ${MODEL_FIELDS} } }`;
const CREATE_COHORT_QUERY =
  'mutation($input: CreateCohortQueryInput!) { createCohortQuery(input: $input) { id name query createdAt } }';
const QUEUE_TRAINING = `mutation($modelId: ID!, $trustIds: [ID!]!) { queueTraining(modelId: $modelId, trustIds: $trustIds) { ${JOB_FIELDS} } }`;
const REMOVE_JOB = `mutation($id: ID!) { removeJob(id: $id) { ${JOB_FIELDS} } }`;
const REMOVE_JOBS_FOR_MODEL = 'mutation($modelId: ID!) { removeJobsForModel(modelId: $modelId) }';
const CLAIM_NET = `mutation { claimAvailableNet { ${SCHEDULER_FIELDS} } }`;
const CLAIM_JOB = `mutation($schedulerId: ID!) { claimQueuedJob(schedulerId: $schedulerId) { ${JOB_FIELDS} } }`;
const REVERT_PICKUP = `mutation($schedulerId: ID!) { revertSchedulerPickup(schedulerId: $schedulerId) { ${SCHEDULER_FIELDS} } }`;
const UPDATE_APPROVED = `mutation($modelId: ID!, $trustIds: [ID!]!) { updateModelApprovedTrusts(modelId: $modelId, trustIds: $trustIds) { ${MODEL_FIELDS} } }`;

/** Names that are not 1–200 characters after trimming, or that hold a NUL. */
const BAD_NAMES: Array<[string, string]> = [
  ['empty', ''],
  ['whitespace only', ' \t\n '],
  ['201 characters', 'n'.repeat(201)],
  ['201 characters inside spaces', `  ${'n'.repeat(201)}  `],
  ['containing NUL', 'Trust\u0000X'],
];

async function jobRow(
  pool: pg.Pool,
  id: string,
): Promise<{ status: string; netId: string | null; startedAt: Date | null; claimToken: string | null }> {
  const result = await pool.query(
    'select status, net_id as "netId", started_at as "startedAt", claim_token as "claimToken" from job where id = $1',
    [id],
  );
  return result.rows[0];
}

async function schedulerRow(
  pool: pg.Pool,
  id: string,
): Promise<{ status: string; jobId: string | null; leaseUntil: Date | null }> {
  const result = await pool.query('select status, job_id as "jobId", lease_until as "leaseUntil" from scheduler where id = $1', [
    id,
  ]);
  return result.rows[0];
}

describe('management mutations', () => {
  let db: TestDatabase;
  let hub: TestHub;

  const createTrust = async (name: string): Promise<TrustView> =>
    (await hub.gqlOk<{ createTrust: TrustView }>(CREATE_TRUST, { name })).createTrust;
  const createProject = async (name: string): Promise<ProjectView> =>
    (await hub.gqlOk<{ createProject: ProjectView }>(CREATE_PROJECT, { name })).createProject;
  const createModel = async (projectId: string, name: string, approvedTrustIds: string[]): Promise<ModelView> =>
    (await hub.gqlOk<{ createModel: ModelView }>(CREATE_MODEL, { input: { projectId, name, approvedTrustIds } })).createModel;
  const queueTraining = async (modelId: string, trustIds: string[]): Promise<JobView> =>
    (await hub.gqlOk<{ queueTraining: JobView }>(QUEUE_TRAINING, { modelId, trustIds })).queueTraining;
  const queuedJobs = async (): Promise<Array<{ id: string; queuePosition: number }>> =>
    (await hub.gqlOk<{ jobs: Array<{ id: string; queuePosition: number }> }>('{ jobs(status: QUEUED) { id queuePosition } }'))
      .jobs;
  const positionOf = async (jobId: string): Promise<number | null> =>
    (
      await hub.gqlOk<{ job: { queuePosition: number | null } }>('query($id: ID!) { job(id: $id) { queuePosition } }', {
        id: jobId,
      })
    ).job.queuePosition;

  /** A project with a model approving `trusts` (fresh trusts when none are given). */
  async function createModelWithTrusts(
    label: string,
    trusts?: TrustView[],
  ): Promise<{ project: ProjectView; model: ModelView; trusts: TrustView[] }> {
    const approved = trusts ?? [await createTrust(`${label} trust 1`), await createTrust(`${label} trust 2`)];
    const project = await createProject(`${label} project`);
    const model = await createModel(
      project.id,
      `${label} model`,
      approved.map((t) => t.id),
    );
    return { project, model, trusts: approved };
  }

  /** claimAvailableNet then claimQueuedJob: the seed's two-step claim. */
  async function claimNetAndJob(): Promise<{ scheduler: SchedulerView; job: JobView | null }> {
    const { claimAvailableNet } = await hub.gqlOk<{ claimAvailableNet: SchedulerView | null }>(CLAIM_NET);
    if (!claimAvailableNet) throw new Error('no AVAILABLE net to claim');
    const { claimQueuedJob } = await hub.gqlOk<{ claimQueuedJob: JobView | null }>(CLAIM_JOB, {
      schedulerId: claimAvailableNet.id,
    });
    return { scheduler: claimAvailableNet, job: claimQueuedJob };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startTestHub(db.url, {
      netEndpoints: [
        { name: 'net-a', endpoint: 'http://127.0.0.1:1' },
        { name: 'net-b', endpoint: 'http://127.0.0.1:2' },
      ],
      kitSlots: ['slot-1', 'slot-2', 'slot-3'],
    });
  });

  afterAll(async () => {
    await hub?.close();
    await db?.drop();
  });

  describe('createTrust', () => {
    it('binds each new trust to the lowest free kit slot, and to none once all are taken', async () => {
      const first = [
        await createTrust('Trust 1'),
        await createTrust('Trust 2'),
        await createTrust('Trust 3'),
        await createTrust('Trust 4'),
      ];
      expect(first.map((t) => [t.name, t.slotName])).toEqual([
        ['Trust 1', 'slot-1'],
        ['Trust 2', 'slot-2'],
        ['Trust 3', 'slot-3'],
        ['Trust 4', null],
      ]);
      const slots = await db.pool.query<{ slotName: string; trustId: string | null; assigned: boolean }>(
        `select slot_name as "slotName", assigned_trust_id as "trustId", assigned_at is not null as assigned from kit_slot order by slot_number`,
      );
      expect(slots.rows).toEqual(first.slice(0, 3).map((t) => ({ slotName: t.slotName, trustId: t.id, assigned: true })));

      // a slot released in the middle is the lowest free one again
      await db.pool.query(`update kit_slot set assigned_trust_id = null, assigned_at = null where slot_name = 'slot-2'`);
      expect((await createTrust('Trust 5')).slotName).toBe('slot-2');
      expect((await createTrust('Trust 6')).slotName).toBeNull();
    });

    it('trims the name', async () => {
      const trust = await createTrust('  Trimmed Trust \t');
      expect(trust.name).toBe('Trimmed Trust');
      const stored = await db.pool.query('select name from trust where id = $1', [trust.id]);
      expect(stored.rows).toEqual([{ name: 'Trimmed Trust' }]);
    });

    it('accepts a name of exactly 200 characters', async () => {
      const name = 'x'.repeat(200);
      expect((await createTrust(` ${name} `)).name).toBe(name);
    });

    it.each([
      ['the same name', 'Trust 1'],
      ['the same name after trimming', '  Trust 1  '],
    ])('refuses %s with CONFLICT, writing nothing and taking no kit slot', async (_label, name) => {
      await db.pool.query(`update kit_slot set assigned_trust_id = null, assigned_at = null where slot_name = 'slot-3'`);
      try {
        await expectRejected(hub, db.pool, 'CONFLICT', CREATE_TRUST, { name });
      } finally {
        await db.pool.query(
          `update kit_slot set assigned_trust_id = (select id from trust where name = 'Trust 3'), assigned_at = now() where slot_name = 'slot-3'`,
        );
      }
    });

    it.each(BAD_NAMES)('refuses a name %s with BAD_USER_INPUT, writing nothing', async (_label, name) => {
      await expectRejected(hub, db.pool, 'BAD_USER_INPUT', CREATE_TRUST, { name });
    });
  });

  describe('createProject', () => {
    it('creates a project with the trimmed name', async () => {
      const project = await createProject('  Oncology  ');
      expect(project.name).toBe('Oncology');
      const stored = await db.pool.query('select id, name from project where id = $1', [project.id]);
      expect(stored.rows).toEqual([project]);
    });

    it.each(BAD_NAMES)('refuses a name %s with BAD_USER_INPUT, writing nothing', async (_label, name) => {
      await expectRejected(hub, db.pool, 'BAD_USER_INPUT', CREATE_PROJECT, { name });
    });
  });

  describe('createModel', () => {
    let project: ProjectView;
    let trusts: TrustView[];

    beforeAll(async () => {
      project = await createProject('Model project');
      trusts = [await createTrust('Model trust A'), await createTrust('Model trust B')];
    });

    it('creates a PENDING model of the project with its approved trusts', async () => {
      const model = await createModel(project.id, ' Tumour model ', [trusts[1].id, trusts[0].id]);
      expect(model).toMatchObject({ name: 'Tumour model', status: 'PENDING', project });
      expect(model.approvedTrusts.map((t) => t.id).sort()).toEqual(trusts.map((t) => t.id).sort());
      const row = await db.pool.query('select name, status, project_id as "projectId" from model where id = $1', [model.id]);
      expect(row.rows).toEqual([{ name: 'Tumour model', status: 'PENDING', projectId: project.id }]);
      const approved = await db.pool.query<{ trustId: string }>(
        'select trust_id as "trustId" from model_approved_trust where model_id = $1',
        [model.id],
      );
      expect(approved.rows.map((r) => r.trustId).sort()).toEqual(trusts.map((t) => t.id).sort());
    });

    it('creates a model without approved trusts', async () => {
      const model = await createModel(project.id, 'Lonely model', []);
      expect(model.approvedTrusts).toEqual([]);
    });

    it.each([
      ['an unknown project', 'NOT_FOUND', () => ({ projectId: UNKNOWN_ID, approvedTrustIds: [trusts[0].id] })],
      ['an unknown approved trust', 'BAD_USER_INPUT', () => ({ approvedTrustIds: [trusts[0].id, UNKNOWN_ID] })],
      ['a malformed project id', 'BAD_USER_INPUT', () => ({ projectId: 'project-1' })],
      ['a malformed approved trust id', 'BAD_USER_INPUT', () => ({ approvedTrustIds: ['trust-a'] })],
      ['the same approved trust twice', 'BAD_USER_INPUT', () => ({ approvedTrustIds: [trusts[0].id, trusts[0].id] })],
      ['an empty name', 'BAD_USER_INPUT', () => ({ name: '  ' })],
      ['a name with NUL', 'BAD_USER_INPUT', () => ({ name: 'a\u0000' })],
    ])('refuses %s with %s, writing nothing', async (_label, code, change) => {
      const input = { projectId: project.id, name: 'Refused model', approvedTrustIds: [] as string[], ...change() };
      await expectRejected(hub, db.pool, code, CREATE_MODEL, { input });
    });
  });

  describe('createCohortQuery', () => {
    const KIB_64 = 64 * 1024;
    let project: ProjectView;

    beforeAll(async () => {
      project = await createProject('Cohort project');
    });

    it.each([
      ['one character', 'x'],
      ['64 KiB of ASCII', 'q'.repeat(KIB_64)],
      ['64 KiB of two-byte characters', 'é'.repeat(KIB_64 / 2)],
    ])('stores a query of %s', async (_label, query) => {
      const { createCohortQuery } = await hub.gqlOk<{ createCohortQuery: { id: string; name: string; query: string } }>(
        CREATE_COHORT_QUERY,
        {
          input: { projectId: project.id, name: ' cohort ', query },
        },
      );
      expect(createCohortQuery.name).toBe('cohort');
      expect(createCohortQuery.query).toBe(query);
      const row = await db.pool.query('select query, project_id as "projectId" from cohort_query where id = $1', [
        createCohortQuery.id,
      ]);
      expect(row.rows).toEqual([{ query, projectId: project.id }]);
    });

    it.each([
      ['a query of 64 KiB + 1 byte', 'BAD_USER_INPUT', () => ({ query: 'q'.repeat(KIB_64 + 1) })],
      ['a query of 64 KiB + 1 byte in two-byte characters', 'BAD_USER_INPUT', () => ({ query: `${'é'.repeat(KIB_64 / 2)}q` })],
      ['an empty query', 'BAD_USER_INPUT', () => ({ query: '' })],
      ['a query with NUL', 'BAD_USER_INPUT', () => ({ query: 'select\u00001' })],
      ['an empty name', 'BAD_USER_INPUT', () => ({ name: '' })],
      ['an unknown project', 'NOT_FOUND', () => ({ projectId: UNKNOWN_ID })],
      ['a malformed project id', 'BAD_USER_INPUT', () => ({ projectId: '42' })],
    ])('refuses %s with %s, writing nothing', async (_label, code, change) => {
      const input = { projectId: project.id, name: 'cohort', query: 'select 1', ...change() };
      await expectRejected(hub, db.pool, code, CREATE_COHORT_QUERY, { input });
    });
  });

  describe('queueTraining', () => {
    let model: ModelView;
    let approved: TrustView[];
    let stranger: TrustView;

    beforeAll(async () => {
      ({ model, trusts: approved } = await createModelWithTrusts('Queue'));
      stranger = await createTrust('Not approved trust');
    });

    it('queues a QUEUED job with the given trusts, last in the queue', async () => {
      const job = await queueTraining(model.id, [approved[1].id, approved[0].id]);
      expect(job).toMatchObject({ status: 'QUEUED', startedAt: null, model: { id: model.id }, net: null });
      expect(job.trusts.map((t) => t.id).sort()).toEqual(approved.map((t) => t.id).sort());
      const queued = await queuedJobs();
      expect(queued.at(-1)).toEqual({ id: job.id, queuePosition: queued.length });
      expect(job.queuePosition).toBe(queued.length);
      const row = await db.pool.query('select status, model_id as "modelId", net_id as "netId" from job where id = $1', [job.id]);
      expect(row.rows).toEqual([{ status: 'QUEUED', modelId: model.id, netId: null }]);
      const links = await db.pool.query<{ trustId: string }>('select trust_id as "trustId" from job_trust where job_id = $1', [
        job.id,
      ]);
      expect(links.rows.map((r) => r.trustId).sort()).toEqual(approved.map((t) => t.id).sort());
    });

    it('refuses a second live job of the model with CONFLICT, writing nothing, and queues again once the live one ended', async () => {
      const live = await db.pool.query<{ id: string }>(`select id from job where model_id = $1 and status = 'QUEUED'`, [
        model.id,
      ]);
      expect(live.rows).toHaveLength(1); // the job the test above queued
      const before = await snapshot(db.pool);
      const refused = await hub.gql(QUEUE_TRAINING, { modelId: model.id, trustIds: [approved[0].id] });
      expectError(refused, 'CONFLICT');
      expect(refused.errors?.[0].extensions).toMatchObject({ liveJobId: live.rows[0].id });
      expect(refused.errors?.[0].message).toContain('already has a live');
      expect(await snapshot(db.pool)).toEqual(before);

      await hub.gqlOk(REMOVE_JOB, { id: live.rows[0].id });
      const again = await queueTraining(model.id, [approved[0].id]);
      expect(again).toMatchObject({ status: 'QUEUED', model: { id: model.id } });
      expect(again.queuePosition).toBe((await queuedJobs()).length);
    });

    it('lets exactly one of many simultaneous requests for one model through; the others are CONFLICT', async () => {
      const { model: raced } = await createModelWithTrusts('Raced', approved);
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => hub.gql(QUEUE_TRAINING, { modelId: raced.id, trustIds: [approved[0].id] })),
      );
      const accepted = answers.filter((answer) => !answer.errors);
      expect(accepted).toHaveLength(1);
      for (const answer of answers.filter((a) => a.errors)) expectError(answer, 'CONFLICT');
      const rows = await db.pool.query('select id from job where model_id = $1', [raced.id]);
      expect(rows.rows).toHaveLength(1);
      const links = await db.pool.query('select 1 from job_trust where job_id = $1', [rows.rows[0].id]);
      expect(links.rows).toHaveLength(1);
    });

    it.each([
      ['an unknown model', 'NOT_FOUND', () => ({ modelId: UNKNOWN_ID })],
      ['an unknown trust', 'BAD_USER_INPUT', () => ({ trustIds: [approved[0].id, UNKNOWN_ID] })],
      ['a trust not approved for the model', 'BAD_USER_INPUT', () => ({ trustIds: [approved[0].id, stranger.id] })],
      ['the same trust twice', 'BAD_USER_INPUT', () => ({ trustIds: [approved[0].id, approved[0].id] })],
      ['an empty trust list', 'BAD_USER_INPUT', () => ({ trustIds: [] })],
      ['a malformed trust id', 'BAD_USER_INPUT', () => ({ trustIds: ['trust-1'] })],
      ['a malformed model id', 'BAD_USER_INPUT', () => ({ modelId: 'model-1' })],
    ])('refuses %s with %s, writing no job', async (_label, code, change) => {
      await expectRejected(hub, db.pool, code, QUEUE_TRAINING, { modelId: model.id, trustIds: [approved[0].id], ...change() });
    });
  });

  describe('removeJob', () => {
    let model: ModelView;
    let trusts: TrustView[];

    beforeAll(async () => {
      ({ model, trusts } = await createModelWithTrusts('Remove'));
    });

    it('sets a QUEUED job DELETED with startedAt null, and moves the jobs behind it up the queue', async () => {
      // one live job per model: a model each
      const second_ = await createModelWithTrusts('Remove second', trusts);
      const third_ = await createModelWithTrusts('Remove third', trusts);
      const [first, second, third] = [
        await queueTraining(model.id, [trusts[0].id]),
        await queueTraining(second_.model.id, [trusts[1].id]),
        await queueTraining(third_.model.id, [trusts[0].id]),
      ];
      const before = await Promise.all([first, second, third].map((j) => positionOf(j.id)));
      expect(before[1]).toBe((before[0] as number) + 1);
      expect(before[2]).toBe((before[0] as number) + 2);

      const { removeJob } = await hub.gqlOk<{ removeJob: JobView }>(REMOVE_JOB, { id: first.id });
      expect(removeJob).toMatchObject({ id: first.id, status: 'DELETED', startedAt: null, queuePosition: null });
      expect(await jobRow(db.pool, first.id)).toMatchObject({ status: 'DELETED', startedAt: null });
      expect(await positionOf(second.id)).toBe(before[0]);
      expect(await positionOf(third.id)).toBe(before[1]);
      const queued = await queuedJobs();
      expect(queued.map((j) => j.queuePosition)).toEqual(queued.map((_, i) => i + 1));
      expect(queued.map((j) => j.id)).not.toContain(first.id);
    });

    it('removes a job claimed on a net but not started: DELETED, startedAt null, and the net AVAILABLE again', async () => {
      // the claim takes the oldest QUEUED job: clear the queue first
      await db.pool.query(`update job set status = 'DELETED' where status = 'QUEUED'`);
      const queued = await queueTraining(model.id, [trusts[0].id]);
      const { scheduler, job } = await claimNetAndJob();
      expect(job?.id).toBe(queued.id);
      expect(await jobRow(db.pool, queued.id)).toMatchObject({ status: 'IN_PROGRESS', netId: scheduler.net.id });

      const { removeJob } = await hub.gqlOk<{ removeJob: JobView }>(REMOVE_JOB, { id: queued.id });
      expect(removeJob).toMatchObject({ status: 'DELETED', startedAt: null });
      expect(await jobRow(db.pool, queued.id)).toMatchObject({ status: 'DELETED', startedAt: null });
      expect(await schedulerRow(db.pool, scheduler.id)).toEqual({ status: 'AVAILABLE', jobId: null, leaseUntil: null });
    });

    it.each([
      ['an unknown job', 'NOT_FOUND', UNKNOWN_ID],
      ['a malformed job id', 'BAD_USER_INPUT', 'job-1'],
    ])('refuses %s with %s, changing nothing', async (_label, code, id) => {
      await expectRejected(hub, db.pool, code, REMOVE_JOB, { id });
    });
  });

  describe('removeJobsForModel', () => {
    it('sets every non-deleted job of the model DELETED and returns how many; a second call returns 0', async () => {
      const { model, trusts } = await createModelWithTrusts('Bulk');
      const other = await createModelWithTrusts('Bulk other', trusts);
      // one live job per model: a COMPLETED one, a DELETED one, then the live one
      const jobs = [await queueTraining(model.id, [trusts[0].id])];
      await db.pool.query(`update job set status = 'COMPLETED', completed_at = now() where id = $1`, [jobs[0].id]);
      jobs.push(await queueTraining(model.id, [trusts[1].id]));
      await db.pool.query(`update job set status = 'DELETED' where id = $1`, [jobs[1].id]);
      jobs.push(await queueTraining(model.id, [trusts[0].id]));
      const otherJob = await queueTraining(other.model.id, [trusts[0].id]);

      expect(await hub.gqlOk(REMOVE_JOBS_FOR_MODEL, { modelId: model.id })).toEqual({ removeJobsForModel: 2 });
      const rows = await db.pool.query<{ status: string; startedAt: Date | null }>(
        'select status, started_at as "startedAt" from job where model_id = $1 order by seq',
        [model.id],
      );
      expect(rows.rows).toEqual(jobs.map(() => ({ status: 'DELETED', startedAt: null })));
      expect((await jobRow(db.pool, otherJob.id)).status).toBe('QUEUED');

      expect(await hub.gqlOk(REMOVE_JOBS_FOR_MODEL, { modelId: model.id })).toEqual({ removeJobsForModel: 0 });
      await hub.gqlOk(REMOVE_JOB, { id: otherJob.id });
    });

    it('counts a job claimed on a net, and frees that net', async () => {
      await db.pool.query(`update job set status = 'DELETED' where status = 'QUEUED'`);
      const { model, trusts } = await createModelWithTrusts('Bulk claimed');
      const completed = await queueTraining(model.id, [trusts[1].id]);
      await db.pool.query(`update job set status = 'COMPLETED', completed_at = now() where id = $1`, [completed.id]);
      const claimedJob = await queueTraining(model.id, [trusts[0].id]);
      const { scheduler, job } = await claimNetAndJob();
      expect(job?.id).toBe(claimedJob.id);

      expect(await hub.gqlOk(REMOVE_JOBS_FOR_MODEL, { modelId: model.id })).toEqual({ removeJobsForModel: 2 });
      expect(await jobRow(db.pool, claimedJob.id)).toMatchObject({ status: 'DELETED', startedAt: null });
      expect(await schedulerRow(db.pool, scheduler.id)).toEqual({ status: 'AVAILABLE', jobId: null, leaseUntil: null });
    });

    it.each([
      ['an unknown model', 'NOT_FOUND', UNKNOWN_ID],
      ['a malformed model id', 'BAD_USER_INPUT', 'model'],
    ])('refuses %s with %s, changing nothing', async (_label, code, modelId) => {
      await expectRejected(hub, db.pool, code, REMOVE_JOBS_FOR_MODEL, { modelId });
    });
  });

  describe('revertSchedulerPickup', () => {
    it('puts a net claimed by claimAvailableNet back to AVAILABLE, without a lease', async () => {
      const { claimAvailableNet } = await hub.gqlOk<{ claimAvailableNet: SchedulerView }>(CLAIM_NET);
      expect(claimAvailableNet.status).toBe('BUSY');
      const held = await schedulerRow(db.pool, claimAvailableNet.id);
      expect(held.status).toBe('BUSY');
      expect(held.leaseUntil).not.toBeNull();

      const { revertSchedulerPickup } = await hub.gqlOk<{ revertSchedulerPickup: SchedulerView }>(REVERT_PICKUP, {
        schedulerId: claimAvailableNet.id,
      });
      expect(revertSchedulerPickup).toEqual({ ...claimAvailableNet, status: 'AVAILABLE', job: null });
      expect(await schedulerRow(db.pool, claimAvailableNet.id)).toEqual({ status: 'AVAILABLE', jobId: null, leaseUntil: null });
    });

    it('sends a job claimed but not started back to the queue, at its old place', async () => {
      await db.pool.query(`update job set status = 'DELETED' where status = 'QUEUED'`);
      const { model, trusts } = await createModelWithTrusts('Revert');
      const other = await createModelWithTrusts('Revert other', trusts);
      const oldest = await queueTraining(model.id, [trusts[0].id]);
      const younger = await queueTraining(other.model.id, [trusts[1].id]);
      const { scheduler, job } = await claimNetAndJob();
      expect(job).toMatchObject({ id: oldest.id, status: 'IN_PROGRESS', net: scheduler.net, queuePosition: null });
      expect(job?.startedAt).toEqual(expect.any(String)); // the claim stamps startedAt
      expect(await positionOf(younger.id)).toBe(1);

      const { revertSchedulerPickup } = await hub.gqlOk<{ revertSchedulerPickup: SchedulerView }>(REVERT_PICKUP, {
        schedulerId: scheduler.id,
      });
      expect(revertSchedulerPickup).toMatchObject({ id: scheduler.id, status: 'AVAILABLE', job: null });
      expect(await schedulerRow(db.pool, scheduler.id)).toEqual({ status: 'AVAILABLE', jobId: null, leaseUntil: null });
      expect(await jobRow(db.pool, oldest.id)).toEqual({ status: 'QUEUED', netId: null, startedAt: null, claimToken: null });
      expect(await queuedJobs()).toEqual([
        { id: oldest.id, queuePosition: 1 },
        { id: younger.id, queuePosition: 2 },
      ]);
    });

    it.each([
      ['an unknown scheduler', 'NOT_FOUND', UNKNOWN_ID],
      ['a malformed scheduler id', 'BAD_USER_INPUT', 'net-a'],
    ])('refuses %s with %s, changing nothing', async (_label, code, schedulerId) => {
      await expectRejected(hub, db.pool, code, REVERT_PICKUP, { schedulerId });
    });
  });

  describe('updateModelApprovedTrusts', () => {
    let model: ModelView;
    let trusts: TrustView[];

    const approvedIds = async (modelId: string): Promise<string[]> =>
      (
        await db.pool.query<{ trustId: string }>('select trust_id as "trustId" from model_approved_trust where model_id = $1', [
          modelId,
        ])
      ).rows
        .map((r) => r.trustId)
        .sort();

    beforeAll(async () => {
      trusts = [await createTrust('Approval A'), await createTrust('Approval B'), await createTrust('Approval C')];
      ({ model } = await createModelWithTrusts('Approval', trusts.slice(0, 2)));
    });

    it('replaces the set of approved trusts', async () => {
      const { updateModelApprovedTrusts } = await hub.gqlOk<{ updateModelApprovedTrusts: ModelView }>(UPDATE_APPROVED, {
        modelId: model.id,
        trustIds: [trusts[2].id, trusts[1].id],
      });
      expect(updateModelApprovedTrusts.id).toBe(model.id);
      expect(updateModelApprovedTrusts.approvedTrusts.map((t) => t.id).sort()).toEqual([trusts[1].id, trusts[2].id].sort());
      expect(await approvedIds(model.id)).toEqual([trusts[1].id, trusts[2].id].sort());

      // a trust no longer approved cannot be queued for the model
      expectError(await hub.gql(QUEUE_TRAINING, { modelId: model.id, trustIds: [trusts[0].id] }), 'BAD_USER_INPUT');
      expect((await queueTraining(model.id, [trusts[2].id])).status).toBe('QUEUED');
    });

    it('empties the set with an empty list', async () => {
      const other = await createModelWithTrusts('Approval empty', trusts);
      const { updateModelApprovedTrusts } = await hub.gqlOk<{ updateModelApprovedTrusts: ModelView }>(UPDATE_APPROVED, {
        modelId: other.model.id,
        trustIds: [],
      });
      expect(updateModelApprovedTrusts.approvedTrusts).toEqual([]);
      expect(await approvedIds(other.model.id)).toEqual([]);
    });

    it.each([
      ['an unknown trust', 'BAD_USER_INPUT', () => ({ trustIds: [trusts[0].id, UNKNOWN_ID] })],
      ['a malformed trust id', 'BAD_USER_INPUT', () => ({ trustIds: ['approval-a'] })],
      ['an unknown model', 'NOT_FOUND', () => ({ modelId: UNKNOWN_ID })],
      ['a malformed model id', 'BAD_USER_INPUT', () => ({ modelId: 'approval' })],
    ])('refuses %s with %s, leaving the set as it was', async (_label, code, change) => {
      const before = await approvedIds(model.id);
      await expectRejected(hub, db.pool, code, UPDATE_APPROVED, { modelId: model.id, trustIds: [trusts[0].id], ...change() });
      expect(await approvedIds(model.id)).toEqual(before);
    });
  });
});
