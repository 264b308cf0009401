import { describe, expect, it } from '@jest/globals';
import { expectError } from '../support/gql.js';
import { useNetHub } from '../support/net-hub.js';
import { until } from '../support/wait.js';

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
  const f = useNetHub({ nets: [{ name: 'net-a' }, { name: 'net-b' }], kitSlots: SLOTS });

  const liveJobs = async (modelId: string) =>
    (
      await f.db.pool.query<{ id: string; status: string }>(
        `select id, status from job where model_id = $1 and status in ('QUEUED', 'IN_PROGRESS') order by seq`,
        [modelId],
      )
    ).rows;

  it('refuses the second and third queueTraining of a model; its completion ends its run alone, the other net runs on', async () => {
    const model = await f.s.newModel();
    const other = await f.s.newModel();
    const first = (await f.hub.gqlOk<{ queueTraining: QueueAnswer }>(QUEUE, { m: model, t: f.s.trustIds })).queueTraining;
    for (let i = 0; i < 2; i++) {
      expectError(await f.hub.gql(QUEUE, { m: model, t: f.s.trustIds }), 'CONFLICT');
    }
    expect(await liveJobs(model)).toEqual([{ id: first.id, status: 'QUEUED' }]);

    const otherJob = await f.s.queue(other);
    const { runPickupCycle } = await f.hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string; net: { name: string } }> } }>(
      CYCLE,
    );
    expect(runPickupCycle.started.map((j) => j.id).sort()).toEqual([first.id, otherJob].sort());
    // while it runs, the model still has its one live job
    expectError(await f.hub.gql(QUEUE, { m: model, t: f.s.trustIds }), 'CONFLICT');

    const otherNet = runPickupCycle.started.find((j) => j.id === otherJob)!.net.name;
    const otherFake = f.nets[otherNet];
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: model });

    const jobs = await f.db.pool.query<{ id: string; status: string }>(
      'select id, status from job where id = any($1) order by seq',
      [[first.id, otherJob]],
    );
    expect(jobs.rows).toEqual([
      { id: first.id, status: 'COMPLETED' },
      { id: otherJob, status: 'IN_PROGRESS' },
    ]);
    expect(otherFake.activeRuns().map((run) => run.modelId)).toEqual([other]);
    expect(f.nets['net-a'].requestsTo('abort_job').length + f.nets['net-b'].requestsTo('abort_job').length).toBe(0);
    const busy = await f.db.pool.query<{ name: string; jobId: string | null }>(
      `select n.name, s.job_id as "jobId" from scheduler s join net n on n.id = s.net_id where s.status = 'BUSY'`,
    );
    expect(busy.rows).toEqual([{ name: otherNet, jobId: otherJob }]);

    // once its job ended, the model may be queued again
    const again = (await f.hub.gqlOk<{ queueTraining: QueueAnswer }>(QUEUE, { m: model, t: f.s.trustIds })).queueTraining;
    expect(again.status).toBe('QUEUED');
    await f.hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { id } }', { id: again.id });
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: other });
  });
});

/** Every answer is one snapshot of the job: never QUEUED without a position, even when a claim follows at once. */
describe('queueTraining answers one consistent snapshot', () => {
  const NETS = 3;
  // automatic pickup: each queueTraining wakes a claim that may run before the answer is written
  const f = useNetHub({
    nets: Array.from({ length: NETS }, (_, i) => ({ name: `net-${i}` })),
    kitSlots: SLOTS,
    hub: { pickupIntervalMs: 60_000 },
  });

  it('answers QUEUED with the position the job had when it was queued, and the job then starts', async () => {
    const answers: QueueAnswer[] = [];
    for (let i = 0; i < NETS; i++) {
      const model = await f.s.newModel();
      answers.push((await f.hub.gqlOk<{ queueTraining: QueueAnswer }>(QUEUE, { m: model, t: f.s.trustIds })).queueTraining);
    }
    for (const answer of answers) {
      expect(answer).toEqual({ id: answer.id, status: 'QUEUED', queuePosition: expect.any(Number), net: null });
      expect(answer.queuePosition).toBeGreaterThanOrEqual(1);
    }
    await until(
      async () =>
        (
          await f.db.pool.query(
            `select 1 from job where id = any($1) and status = 'IN_PROGRESS' and backend_job_id is not null`,
            [answers.map((a) => a.id)],
          )
        ).rowCount === NETS,
      { what: 'the queued jobs all started' },
    );
  });
});
