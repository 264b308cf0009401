import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ReconcileService } from '../../src/modules/schedulers/running/reconcile.service.js';
import { createTestDatabase } from '../support/database.js';
import { startFakeNet } from '../support/fake-net.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

const QUEUE = `mutation($m: ID!, $t: [ID!]!, $o: QueueOptions) {
  queueTraining(modelId: $m, trustIds: $t, options: $o) { id maxRuntimeSeconds } }`;
const CYCLE = 'mutation { runPickupCycle { started { id backendJobId net { name } } } }';

interface Started {
  id: string;
  backendJobId: string;
  net: { name: string };
}

/** Three fake nets and a hub whose MAX_RUNTIME_S is 1. */
async function setUp(overrides: Parameters<typeof startTestHub>[1] = {}) {
  const db = await createTestDatabase();
  const nets = await Promise.all([0, 1, 2].map(() => startFakeNet({ clients: SLOTS })));
  const config = {
    kitSlots: SLOTS,
    netEndpoints: nets.map((net, i) => ({ name: `net-${i}`, endpoint: net.url })),
    maxRuntimeSeconds: 1,
    ...overrides,
  };
  const hub = await startTestHub(db.url, config);
  const s = await createScenario(hub, 2);
  const netNamed = (name: string) => nets[Number(name.slice('net-'.length))];
  const job = async (id: string) =>
    (
      await db.pool.query<{ status: string; end_reason: string | null; model: string }>(
        'select j.status, j.end_reason, m.status as model from job j join model m on m.id = j.model_id where j.id = $1',
        [id],
      )
    ).rows[0];
  const scheduler = async (net: string) =>
    (
      await db.pool.query<{ status: string; job_id: string | null }>(
        'select s.status, s.job_id from scheduler s join net n on n.id = s.net_id where n.name = $1',
        [net],
      )
    ).rows[0];
  const queue = async (options?: Record<string, unknown>) => {
    const modelId = await s.newModel();
    const { queueTraining } = await hub.gqlOk<{ queueTraining: { id: string; maxRuntimeSeconds: number | null } }>(QUEUE, {
      m: modelId,
      t: s.trustIds,
      o: options,
    });
    return { modelId, ...queueTraining };
  };
  const cycle = async () => (await hub.gqlOk<{ runPickupCycle: { started: Started[] } }>(CYCLE)).runPickupCycle.started;
  const aborts = (started: Started) =>
    netNamed(started.net.name)
      .requestsTo('abort_job')
      .filter((r) => r.path.endsWith(`/${started.backendJobId}`)).length;
  const close = async () => {
    await hub.close();
    await Promise.all(nets.map((net) => net.close()));
    await db.drop();
  };
  return { db, nets, hub, s, netNamed, job, scheduler, queue, cycle, aborts, close, config };
}

describe('maxRuntimeSeconds: a run past its limit is aborted and its net freed (reconcile every 200 ms)', () => {
  let t: Awaited<ReturnType<typeof setUp>>;

  beforeAll(async () => {
    t = await setUp({ reconcileIntervalMs: 200 });
  });

  afterAll(() => t?.close());

  it("MAX_RUNTIME_S applies to a job without its own limit; a job's own limit wins; 0 is no limit", async () => {
    const byDefault = await t.queue();
    const unlimited = await t.queue({ maxRuntimeSeconds: 0 });
    const long = await t.queue({ maxRuntimeSeconds: 3_600 });
    expect([byDefault.maxRuntimeSeconds, unlimited.maxRuntimeSeconds, long.maxRuntimeSeconds]).toEqual([1, null, 3_600]);
    const started = await t.cycle();
    expect(started).toHaveLength(3);
    const run = (id: string) => started.find((j) => j.id === id)!;

    await until('the default-limited job is removed', async () => (await t.job(byDefault.id)).status === 'DELETED');
    expect(await t.job(byDefault.id)).toEqual({ status: 'DELETED', end_reason: 'TIMED_OUT', model: 'ERROR' });
    const timedOutNet = run(byDefault.id).net.name;
    await until('its net is free', async () => (await t.scheduler(timedOutNet)).status === 'AVAILABLE');
    expect(await t.scheduler(timedOutNet)).toEqual({ status: 'AVAILABLE', job_id: null });
    expect(t.aborts(run(byDefault.id))).toBe(1);
    expect(t.netNamed(timedOutNet).runByModel(byDefault.modelId)?.status).toBe('STOPPED');

    // the others have run past 1 s too, and a reconcile since has left them alone
    await until(
      'both others have run longer than 1 s',
      async () =>
        (
          await t.db.pool.query(`select 1 from job where id = any($1) and started_at < now() - interval '1.2 seconds'`, [
            [unlimited.id, long.id],
          ])
        ).rowCount === 2,
    );
    expect((await t.hub.app.get(ReconcileService).reconcile()).timedOut).toBe(0);
    for (const other of [unlimited, long]) {
      expect(await t.job(other.id)).toEqual({ status: 'IN_PROGRESS', end_reason: null, model: 'INITIATED' });
      expect(t.aborts(run(other.id))).toBe(0);
      expect(t.netNamed(run(other.id).net.name).runByModel(other.modelId)?.status).toBe('RUNNING');
    }
    const { job } = await t.hub.gqlOk('query($id: ID!) { job(id: $id) { status maxRuntimeSeconds net { name } } }', {
      id: byDefault.id,
    });
    expect(job).toEqual({ status: 'DELETED', maxRuntimeSeconds: 1, net: { name: timedOutNet } });
    for (const other of [unlimited, long]) {
      await t.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: other.modelId });
    }
  });
});

describe('a timeout racing a completion, and two instances timing out at once (reconcile driven by hand)', () => {
  let t: Awaited<ReturnType<typeof setUp>>;
  let second: TestHub;

  beforeAll(async () => {
    t = await setUp();
    second = await startTestHub(t.db.url, t.config);
  });

  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  /** Starts `count` jobs (one per net) and waits until all have run past their limit of 1 s. */
  async function pastTheirLimit(count = 3) {
    // the runs of earlier rounds whose completion won are over on their nets too (no orphan to abort later)
    for (const net of t.nets) net.finishAll();
    const jobs: Array<Awaited<ReturnType<typeof t.queue>>> = [];
    for (let i = 0; i < count; i++) jobs.push(await t.queue());
    const started = await t.cycle();
    expect(started).toHaveLength(count);
    await until(
      'every run is past its limit',
      async () =>
        (
          await t.db.pool.query(`select 1 from job where id = any($1) and started_at <= now() - interval '1 second'`, [
            jobs.map((j) => j.id),
          ])
        ).rowCount === count,
    );
    return jobs.map((j) => ({ ...j, started: started.find((r) => r.id === j.id)! }));
  }

  async function expectAllFree(): Promise<void> {
    for (const name of ['net-0', 'net-1', 'net-2']) {
      await until(`${name} is free`, async () => (await t.scheduler(name)).status === 'AVAILABLE');
    }
  }

  it('a completion and a timeout at once: exactly one wins, and only a timeout aborts', async () => {
    for (let round = 0; round < 3; round++) {
      const jobs = await pastTheirLimit();
      await Promise.all([
        ...jobs.map((j) => t.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: j.modelId })),
        t.hub.app.get(ReconcileService).reconcile(),
      ]);
      for (const j of jobs) {
        const state = await t.job(j.id);
        if (state.status === 'COMPLETED') {
          expect({ state, aborts: t.aborts(j.started) }).toEqual({ state: { ...state, end_reason: null }, aborts: 0 });
        } else {
          expect({ state, aborts: t.aborts(j.started) }).toEqual({
            state: { status: 'DELETED', end_reason: 'TIMED_OUT', model: 'ERROR' },
            aborts: 1,
          });
        }
      }
      await expectAllFree();
    }
  });

  it('a completion that comes while the timeout aborts the run waits for it, then finds the run ended', async () => {
    const [j] = await pastTheirLimit(1);
    const net = t.netNamed(j.started.net.name);
    net.fail('abort_job', { holdAnswer: true, times: 1 });
    const reconciled = t.hub.app.get(ReconcileService).reconcile();
    await net.untilHeld('abort_job');
    const completion = t.hub.gql('mutation($m: ID!) { completeTraining(modelId: $m) { id status } }', { m: j.modelId });
    await until(
      'the completion waits for the timeout',
      async () =>
        (await t.db.pool.query(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`))
          .rowCount! > 0,
    );
    net.releaseHeld('abort_job');
    expect((await reconciled).timedOut).toBe(1);
    expect(await completion).toMatchObject({ data: { completeTraining: null } });
    expect(await t.job(j.id)).toEqual({ status: 'DELETED', end_reason: 'TIMED_OUT', model: 'ERROR' });
    expect(t.aborts(j.started)).toBe(1);
    await expectAllFree();
  });

  it('two instances reconciling at once: each run times out once, with one abort', async () => {
    const jobs = await pastTheirLimit();
    const results = await Promise.all([t.hub, second].map((hub) => hub.app.get(ReconcileService).reconcile()));
    expect(results.reduce((sum, r) => sum + r.timedOut, 0)).toBe(3);
    for (const j of jobs) {
      expect(await t.job(j.id)).toEqual({ status: 'DELETED', end_reason: 'TIMED_OUT', model: 'ERROR' });
      expect(t.aborts(j.started)).toBe(1);
    }
    await expectAllFree();
  });
});
