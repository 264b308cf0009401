import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = Array.from({ length: 8 }, (_, i) => `site-${i + 1}`);
const QUEUE = `mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id status queuePosition net { name } } }`;
const CYCLE = 'mutation { runPickupCycle { started { id net { name } } failed { id } } }';

interface QueueAnswer {
  id: string;
  status: string;
  queuePosition: number | null;
  net: { name: string } | null;
}

/**
 * One live job per model (SPEC.md, Version 2): reports are keyed by model, so
 * a second live job would let one net's completion end another net's run.
 * The scenario, against two fake nets.
 */
describe('one live job per model', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let netA: FakeNet;
  let netB: FakeNet;
  let s: Scenario;

  beforeAll(async () => {
    db = await createTestDatabase();
    netA = await startFakeNet({ clients: SLOTS });
    netB = await startFakeNet({ clients: SLOTS });
    hub = await startTestHub(db.url, {
      netEndpoints: [
        { name: 'net-a', endpoint: netA.url },
        { name: 'net-b', endpoint: netB.url },
      ],
      kitSlots: SLOTS,
    });
    s = await createScenario(hub, 2);
  });

  afterAll(async () => {
    await hub?.close();
    await netA?.close();
    await netB?.close();
    await db?.drop();
  });

  const liveJobs = async (modelId: string) =>
    (
      await db.pool.query<{ id: string; status: string }>(
        `select id, status from job where model_id = $1 and status in ('QUEUED', 'IN_PROGRESS') order by seq`,
        [modelId],
      )
    ).rows;

  it('refuses the second and third queueTraining of a model; its completion ends its run alone, the other net runs on', async () => {
    const model = await s.newModel();
    const other = await s.newModel();
    const first = (await hub.gqlOk<{ queueTraining: QueueAnswer }>(QUEUE, { m: model, t: s.trustIds })).queueTraining;
    for (let i = 0; i < 2; i++) {
      const refused = await hub.gql(QUEUE, { m: model, t: s.trustIds });
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
    }
    expect(await liveJobs(model)).toEqual([{ id: first.id, status: 'QUEUED' }]);

    const otherJob = await s.queue(other);
    const { runPickupCycle } = await hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string; net: { name: string } }> } }>(
      CYCLE,
    );
    expect(runPickupCycle.started.map((j) => j.id).sort()).toEqual([first.id, otherJob].sort());
    // while it runs, the model still has its one live job
    const stillRunning = await hub.gql(QUEUE, { m: model, t: s.trustIds });
    expect(stillRunning.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);

    const otherNet = runPickupCycle.started.find((j) => j.id === otherJob)!.net.name;
    const otherFake = otherNet === 'net-a' ? netA : netB;
    await hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: model });

    const jobs = await db.pool.query<{ id: string; status: string }>(
      'select id, status from job where id = any($1) order by seq',
      [[first.id, otherJob]],
    );
    expect(jobs.rows).toEqual([
      { id: first.id, status: 'COMPLETED' },
      { id: otherJob, status: 'IN_PROGRESS' },
    ]);
    expect(otherFake.activeRuns().map((run) => run.modelId)).toEqual([other]);
    expect(netA.requestsTo('abort_job').length + netB.requestsTo('abort_job').length).toBe(0);
    const busy = await db.pool.query<{ name: string; jobId: string | null }>(
      `select n.name, s.job_id as "jobId" from scheduler s join net n on n.id = s.net_id where s.status = 'BUSY'`,
    );
    expect(busy.rows).toEqual([{ name: otherNet, jobId: otherJob }]);

    // once its job ended, the model may be queued again
    const again = (await hub.gqlOk<{ queueTraining: QueueAnswer }>(QUEUE, { m: model, t: s.trustIds })).queueTraining;
    expect(again.status).toBe('QUEUED');
    await hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { id } }', { id: again.id });
    await hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: other });
  });
});

/** Every answer is one snapshot of the job: never QUEUED without a position, even when a claim follows at once. */
describe('queueTraining answers one consistent snapshot', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let nets: FakeNet[];
  let s: Scenario;

  beforeAll(async () => {
    db = await createTestDatabase();
    nets = await Promise.all([0, 1, 2].map(() => startFakeNet({ clients: SLOTS })));
    // automatic pickup: each queueTraining wakes a claim that may run before the answer is written
    hub = await startTestHub(db.url, {
      netEndpoints: nets.map((net, i) => ({ name: `net-${i}`, endpoint: net.url })),
      kitSlots: SLOTS,
      pickupIntervalMs: 60_000,
    });
    s = await createScenario(hub, 2);
  });

  afterAll(async () => {
    await hub?.close();
    await Promise.all(nets.map((net) => net.close()));
    await db?.drop();
  });

  it('answers QUEUED with the position the job had when it was queued, and the job then starts', async () => {
    const answers: QueueAnswer[] = [];
    for (let i = 0; i < nets.length; i++) {
      const model = await s.newModel();
      answers.push((await hub.gqlOk<{ queueTraining: QueueAnswer }>(QUEUE, { m: model, t: s.trustIds })).queueTraining);
    }
    for (const answer of answers) {
      expect(answer).toEqual({ id: answer.id, status: 'QUEUED', queuePosition: expect.any(Number), net: null });
      expect(answer.queuePosition).toBeGreaterThanOrEqual(1);
    }
    const deadline = Date.now() + 30_000;
    const startedCount = async () =>
      (
        await db.pool.query(`select 1 from job where id = any($1) and status = 'IN_PROGRESS' and backend_job_id is not null`, [
          answers.map((a) => a.id),
        ])
      ).rowCount;
    while ((await startedCount()) !== nets.length) {
      if (Date.now() > deadline) throw new Error('the queued jobs did not all start within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
