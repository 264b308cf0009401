import { beforeAll, describe, expect, it } from '@jest/globals';
import { testToken, type TestHub } from '../support/hub.js';
import { useNetHub, type NetHub } from '../support/net-hub.js';
import { collect, listen, untilSubscribed, wsClient } from '../support/subscriptions.js';
import { until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2'];

const QUEUE = `mutation($m: ID!, $t: [ID!]!, $o: QueueOptions) {
  queueTraining(modelId: $m, trustIds: $t, options: $o) { id status priority notBefore maxRuntimeSeconds } }`;
const JOB = 'query($id: ID!) { job(id: $id) { id status priority notBefore maxRuntimeSeconds } }';
const CYCLE = 'mutation { runPickupCycle { started { id } } }';

interface JobAnswer {
  id: string;
  status: string;
  priority: string;
  notBefore: string | null;
  maxRuntimeSeconds: number | null;
}

describe('queueTraining options (priority, notBefore, maxRuntimeSeconds)', () => {
  const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS });

  const queue = (modelId: string, options?: Record<string, unknown>) => queueWith(f.hub, f, modelId, options);
  const row = async (id: string) =>
    (
      await f.db.pool.query<{ priority: string; not_before: Date | null; max_runtime_s: number | null; status: string }>(
        'select priority, not_before, max_runtime_s, status from job where id = $1',
        [id],
      )
    ).rows[0];
  const remove = (id: string) => f.hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { id } }', { id });

  it('stores what was asked and answers it, in the mutation and in later reads', async () => {
    const notBefore = new Date(Date.now() + 3_600_000).toISOString();
    const job = await queue(await f.s.newModel(), { priority: 'HIGH', notBefore, maxRuntimeSeconds: 600 });
    expect(job).toMatchObject({ status: 'QUEUED', priority: 'HIGH', notBefore, maxRuntimeSeconds: 600 });
    expect(await row(job.id)).toEqual({
      priority: 'HIGH',
      not_before: new Date(notBefore),
      max_runtime_s: 600,
      status: 'QUEUED',
    });
    expect((await f.hub.gqlOk<{ job: JobAnswer }>(JOB, { id: job.id })).job).toEqual(job);
    await remove(job.id);
  });

  it('defaults: NORMAL, may start now, no limit (MAX_RUNTIME_S is 0) — with the options left out or empty', async () => {
    for (const options of [undefined, {}, { priority: null, notBefore: null, maxRuntimeSeconds: null }]) {
      const job = await queue(await f.s.newModel(), options);
      expect(job).toMatchObject({ priority: 'NORMAL', notBefore: null, maxRuntimeSeconds: null });
      expect(await row(job.id)).toMatchObject({ priority: 'NORMAL', not_before: null, max_runtime_s: null });
      await remove(job.id);
    }
  });

  it('refuses bad options with BAD_USER_INPUT and writes nothing', async () => {
    const modelId = await f.s.newModel();
    const count = async () => (await f.db.pool.query('select count(*)::int as n from job')).rows[0].n as number;
    const before = await count();
    for (const options of [
      { maxRuntimeSeconds: -1 },
      { maxRuntimeSeconds: 1.5 },
      { maxRuntimeSeconds: 2 ** 31 },
      { notBefore: 'tomorrow' },
      { notBefore: '0000-06-01T00:00:00Z' },
      { notBefore: 12 },
      { priority: 'SUPER' },
    ]) {
      const response = await f.hub.gql(QUEUE, { m: modelId, t: f.s.trustIds, o: options });
      expect({ options, code: response.errors?.[0]?.extensions?.code }).toEqual({ options, code: 'BAD_USER_INPUT' });
    }
    expect(await count()).toBe(before);
    const { model } = await f.hub.gqlOk<{ model: { status: string } }>('query($id: ID!) { model(id: $id) { status } }', {
      id: modelId,
    });
    expect(model.status).toBe('PENDING');
  });

  it('a start time in the past: the job may start now', async () => {
    const job = await queue(await f.s.newModel(), { notBefore: new Date(Date.now() - 60_000).toISOString() });
    expect(job.notBefore).toBeNull();
    const { runPickupCycle } = await f.hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(CYCLE);
    expect(runPickupCycle.started.map((j) => j.id)).toEqual([job.id]);
    await remove(job.id);
  });

  it('the claim leaves a job before its time, takes the one behind it, and the step form finds nothing', async () => {
    const notBefore = new Date(Date.now() + 3_600_000).toISOString();
    const later = await queue(await f.s.newModel(), { notBefore });
    const now = await queue(await f.s.newModel());
    const { runPickupCycle } = await f.hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(CYCLE);
    expect(runPickupCycle.started.map((j) => j.id)).toEqual([now.id]);
    expect((await f.hub.gqlOk<{ job: JobAnswer }>(JOB, { id: later.id })).job).toMatchObject({ status: 'QUEUED', notBefore });
    await remove(now.id); // frees the net (after a sweep)
    await until(async () => (await f.db.pool.query(`select 1 from scheduler where status = 'AVAILABLE'`)).rowCount === 1, {
      what: 'the net is free',
    });
    const { claimAvailableNet } = await f.hub.gqlOk<{ claimAvailableNet: { id: string } }>(
      'mutation { claimAvailableNet { id } }',
    );
    const { claimQueuedJob } = await f.hub.gqlOk('mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { id } }', {
      id: claimAvailableNet.id,
    });
    expect(claimQueuedJob).toBeNull();
    await f.hub.gqlOk('mutation($id: ID!) { revertSchedulerPickup(schedulerId: $id) { id } }', { id: claimAvailableNet.id });
    expect(await row(later.id)).toMatchObject({ status: 'QUEUED' });
    expect(f.net.submitCount()).toBe(2); // the past-time job and `now`; never `later`
    await remove(later.id);
  });
});

describe('notBefore with automatic pickup: the job starts by itself at its time', () => {
  // the interval tick (a minute) never comes during a test: only the wake-up can start the job
  const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS, hub: { pickupIntervalMs: 60_000 } });
  let other: TestHub;

  beforeAll(async () => {
    other = await f.startHub({ pickupIntervalMs: 0 }); // no automatic pickup: it only queues
  });

  const startedInTime = async (jobId: string) =>
    (
      await f.db.pool.query<{ ok: boolean }>(
        `select status = 'IN_PROGRESS' and started_at >= not_before as ok from job where id = $1`,
        [jobId],
      )
    ).rows[0].ok;

  async function queueAndWait(via: TestHub, waitMs: number): Promise<void> {
    const modelId = await f.s.newModel();
    const notBefore = new Date(Date.now() + waitMs).toISOString();
    const queueTraining = await queueWith(via, f, modelId, { notBefore });
    expect(queueTraining).toMatchObject({ status: 'QUEUED', notBefore });
    await until(
      async () =>
        (await f.db.pool.query(`select 1 from job where id = $1 and start_phase = 'RUNNING'`, [queueTraining.id])).rowCount === 1,
      { what: 'the job runs' },
    );
    expect(await startedInTime(queueTraining.id)).toBe(true); // not before its time
    expect(f.net.submitCount(modelId)).toBe(1);
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
  }

  it('queued on this instance', () => queueAndWait(f.hub, 1_500));

  it('queued on another instance (heard through the change notifications)', () => queueAndWait(other, 1_500));
});

describe('jobUpdated carries the options', () => {
  const f = useNetHub({ nets: [], kitSlots: SLOTS, hub: { maxRuntimeSeconds: 30 } });

  it('priority, notBefore and maxRuntimeSeconds, on the queueing and on a change of priority', async () => {
    const client = wsClient(await listen(f.hub), await testToken(['admin']));
    try {
      const updates = collect<JobAnswer>(
        client,
        'subscription { jobUpdated { id status priority notBefore maxRuntimeSeconds } }',
      );
      await untilSubscribed(f.hub, 'jobUpdated');
      const notBefore = new Date(Date.now() + 3_600_000).toISOString();
      const job = await queueWith(f.hub, f, await f.s.newModel(), { priority: 'LOW', notBefore });
      await updates.until((u) => u.id === job.id);
      await f.hub.gqlOk('mutation($id: ID!) { setJobPriority(jobId: $id, priority: URGENT) { id } }', { id: job.id });
      await updates.until((u) => u.id === job.id && u.priority === 'URGENT');
      expect(updates.errors).toEqual([]);
      expect(updates.seen.filter((u) => u.id === job.id)).toEqual([
        { id: job.id, status: 'QUEUED', priority: 'LOW', notBefore, maxRuntimeSeconds: 30 },
        { id: job.id, status: 'QUEUED', priority: 'URGENT', notBefore, maxRuntimeSeconds: 30 },
      ]);
    } finally {
      await client.dispose();
    }
  });
});

/** queueTraining through `via` (a hub of fixture `f`) for the scenario's trusts, with these options. */
async function queueWith(
  via: TestHub,
  f: Pick<NetHub, 's'>,
  modelId: string,
  options?: Record<string, unknown>,
): Promise<JobAnswer> {
  return (await via.gqlOk<{ queueTraining: JobAnswer }>(QUEUE, { m: modelId, t: f.s.trustIds, o: options })).queueTraining;
}
