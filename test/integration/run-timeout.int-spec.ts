import { beforeAll, describe, expect, it } from '@jest/globals';
import { ReconcileService } from '../../src/modules/schedulers/running/reconcile.service.js';
import type { AppConfig } from '../../src/config/app-config.js';
import type { TestHub } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';
import { until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2'];

const QUEUE = `mutation($m: ID!, $t: [ID!]!, $o: QueueOptions) {
  queueTraining(modelId: $m, trustIds: $t, options: $o) { id maxRuntimeSeconds } }`;
const CYCLE = 'mutation { runPickupCycle { started { id backendJobId net { name } } } }';

interface Started {
  id: string;
  backendJobId: string;
  net: { name: string };
}

/** Three fake nets (net-0, net-1, net-2) and a hub whose MAX_RUNTIME_S is 1, with what the tests read of them. */
function useTimeouts(overrides: Partial<AppConfig> = {}) {
  const f = useNetHub({
    nets: [0, 1, 2].map((i) => ({ name: `net-${i}` })),
    kitSlots: SLOTS,
    hub: { maxRuntimeSeconds: 1, ...overrides },
  });
  const job = async (id: string) =>
    (
      await f.db.pool.query<{ status: string; end_reason: string | null; model: string }>(
        'select j.status, j.end_reason, m.status as model from job j join model m on m.id = j.model_id where j.id = $1',
        [id],
      )
    ).rows[0];
  const scheduler = async (net: string) =>
    (
      await f.db.pool.query<{ status: string; job_id: string | null }>(
        'select s.status, s.job_id from scheduler s join net n on n.id = s.net_id where n.name = $1',
        [net],
      )
    ).rows[0];
  const queue = async (options?: Record<string, unknown>) => {
    const modelId = await f.s.newModel();
    const { queueTraining } = await f.hub.gqlOk<{ queueTraining: { id: string; maxRuntimeSeconds: number | null } }>(QUEUE, {
      m: modelId,
      t: f.s.trustIds,
      o: options,
    });
    return { modelId, ...queueTraining };
  };
  const cycle = async () => (await f.hub.gqlOk<{ runPickupCycle: { started: Started[] } }>(CYCLE)).runPickupCycle.started;
  const aborts = (started: Started) =>
    f.nets[started.net.name].requestsTo('abort_job').filter((r) => r.path.endsWith(`/${started.backendJobId}`)).length;
  return { f, job, scheduler, queue, cycle, aborts };
}

describe('maxRuntimeSeconds: a run past its limit is aborted and its net freed (reconcile every 200 ms)', () => {
  const t = useTimeouts({ reconcileIntervalMs: 200 });

  it("MAX_RUNTIME_S applies to a job without its own limit; a job's own limit wins; 0 is no limit", async () => {
    const byDefault = await t.queue();
    const unlimited = await t.queue({ maxRuntimeSeconds: 0 });
    const long = await t.queue({ maxRuntimeSeconds: 3_600 });
    expect([byDefault.maxRuntimeSeconds, unlimited.maxRuntimeSeconds, long.maxRuntimeSeconds]).toEqual([1, null, 3_600]);
    const started = await t.cycle();
    expect(started).toHaveLength(3);
    const run = (id: string) => started.find((j) => j.id === id)!;

    await until(async () => (await t.job(byDefault.id)).status === 'DELETED', { what: 'the default-limited job is removed' });
    expect(await t.job(byDefault.id)).toEqual({ status: 'DELETED', end_reason: 'TIMED_OUT', model: 'ERROR' });
    const timedOutNet = run(byDefault.id).net.name;
    await until(async () => (await t.scheduler(timedOutNet)).status === 'AVAILABLE', { what: 'its net is free' });
    expect(await t.scheduler(timedOutNet)).toEqual({ status: 'AVAILABLE', job_id: null });
    expect(t.aborts(run(byDefault.id))).toBe(1);
    expect(t.f.nets[timedOutNet].runByModel(byDefault.modelId)?.status).toBe('STOPPED');

    // the others have run past 1 s too, and a reconcile since has left them alone
    await until(
      async () =>
        (
          await t.f.db.pool.query(`select 1 from job where id = any($1) and started_at < now() - interval '1.2 seconds'`, [
            [unlimited.id, long.id],
          ])
        ).rowCount === 2,
      { what: 'both others have run longer than 1 s' },
    );
    expect((await t.f.hub.app.get(ReconcileService).reconcile()).timedOut).toBe(0);
    for (const other of [unlimited, long]) {
      expect(await t.job(other.id)).toEqual({ status: 'IN_PROGRESS', end_reason: null, model: 'INITIATED' });
      expect(t.aborts(run(other.id))).toBe(0);
      expect(t.f.nets[run(other.id).net.name].runByModel(other.modelId)?.status).toBe('RUNNING');
    }
    const { job } = await t.f.hub.gqlOk('query($id: ID!) { job(id: $id) { status maxRuntimeSeconds net { name } } }', {
      id: byDefault.id,
    });
    expect(job).toEqual({ status: 'DELETED', maxRuntimeSeconds: 1, net: { name: timedOutNet } });
    for (const other of [unlimited, long]) {
      await t.f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: other.modelId });
    }
  });
});

describe('a timeout racing a completion, and two instances timing out at once (reconcile driven by hand)', () => {
  const t = useTimeouts();
  let second: TestHub;

  beforeAll(async () => {
    second = await t.f.startHub();
  });

  /** Starts `count` jobs (one per net) and waits until all have run past their limit of 1 s. */
  async function pastTheirLimit(count = 3) {
    // the runs of earlier rounds whose completion won are over on their nets too (no orphan to abort later)
    for (const net of Object.values(t.f.nets)) net.finishAll();
    const jobs: Array<Awaited<ReturnType<typeof t.queue>>> = [];
    for (let i = 0; i < count; i++) jobs.push(await t.queue());
    const started = await t.cycle();
    expect(started).toHaveLength(count);
    await until(
      async () =>
        (
          await t.f.db.pool.query(`select 1 from job where id = any($1) and started_at <= now() - interval '1 second'`, [
            jobs.map((j) => j.id),
          ])
        ).rowCount === count,
      { what: 'every run is past its limit' },
    );
    return jobs.map((j) => ({ ...j, started: started.find((r) => r.id === j.id)! }));
  }

  async function expectAllFree(): Promise<void> {
    for (const name of ['net-0', 'net-1', 'net-2']) {
      await until(async () => (await t.scheduler(name)).status === 'AVAILABLE', { what: `${name} is free` });
    }
  }

  it('a completion and a timeout at once: exactly one wins, and only a timeout aborts', async () => {
    for (let round = 0; round < 3; round++) {
      const jobs = await pastTheirLimit();
      await Promise.all([
        ...jobs.map((j) => t.f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: j.modelId })),
        t.f.hub.app.get(ReconcileService).reconcile(),
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
    const net = t.f.nets[j.started.net.name];
    net.fail('abort_job', { holdAnswer: true, times: 1 });
    const reconciled = t.f.hub.app.get(ReconcileService).reconcile();
    await net.untilHeld('abort_job');
    const completion = t.f.hub.gql('mutation($m: ID!) { completeTraining(modelId: $m) { id status } }', { m: j.modelId });
    await until(
      async () =>
        (
          await t.f.db.pool.query(
            `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
          )
        ).rowCount! > 0,
      { what: 'the completion waits for the timeout' },
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
    const results = await Promise.all([t.f.hub, second].map((hub) => hub.app.get(ReconcileService).reconcile()));
    expect(results.reduce((sum, r) => sum + r.timedOut, 0)).toBe(3);
    for (const j of jobs) {
      expect(await t.job(j.id)).toEqual({ status: 'DELETED', end_reason: 'TIMED_OUT', model: 'ERROR' });
      expect(t.aborts(j.started)).toBe(1);
    }
    await expectAllFree();
  });
});
