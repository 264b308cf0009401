import { afterEach, describe, expect, it } from '@jest/globals';
import { ReconcileService } from '../../src/modules/schedulers/running/reconcile.service.js';
import { MetricsService } from '../../src/observability/metrics.service.js';
import type { Fault } from '../support/fake-net.js';
import { useNetHub } from '../support/net-hub.js';
import { until } from '../support/wait.js';

const SLOTS = Array.from({ length: 10 }, (_, i) => `site-${i + 1}`);
/** Long, so that a net freed in these tests is provably not freed by its lease running out. */
const LEASE_MS = 120_000;
type Cycle = {
  runPickupCycle: { started: Array<{ id: string; status: string }>; failed: Array<{ id: string; status: string }> };
};
const CYCLE = 'mutation { runPickupCycle { started { id status } failed { id status } } }';

/**
 * Completions that overtake a start (the net reports the end before submit_job
 * has answered), and failed submits that leave a run behind (swept at once).
 * One net per hub, so every start goes to the net under test.
 */
describe.each(['nvflare', 'flower'] as const)('completions racing the start, failed submits (%s)', (backend) => {
  const f = useNetHub({
    nets: [{ name: 'net-1' }],
    backend,
    kitSlots: SLOTS,
    // FLIP's fail-fast mode: a failed start removes its job, and its net takes the next job at once
    hub: { netLeaseMs: LEASE_MS, runMissingGraceMs: 60_000, maxStartAttempts: 1, admissionMaxWaitMs: 0 },
    // a deadlock among the hub's sessions would be broken after 1 s and retried unseen; here it holds them, and a test fails
    prepare: async (db) => {
      const { rows } = await db.pool.query<{ name: string }>('select current_database() as name');
      await db.pool.query(`alter database "${rows[0].name}" set deadlock_timeout = '10min'`);
    },
  });

  afterEach(() => f.reset());

  const scheduler = async () =>
    (
      await f.db.pool.query<{ status: string; job_id: string | null; sweep_pending: boolean; lease_ms: number | null }>(
        `select status, job_id, sweep_pending, (extract(epoch from lease_until - now()) * 1000)::float8 as lease_ms from scheduler`,
      )
    ).rows[0];
  const jobOf = async (jobId: string, modelId: string) =>
    f.hub.gqlOk<{ job: { status: string; backendJobId: string | null }; model: { status: string } }>(
      'query($j: ID!, $m: ID!) { job(id: $j) { status backendJobId } model(id: $m) { status } }',
      { j: jobId, m: modelId },
    );
  const counted = async () => {
    const metrics = f.hub.app.get(MetricsService);
    const sum = async (counter: MetricsService['dispatches'] | MetricsService['startFailures']) =>
      (await counter.get()).values.reduce((total, v) => total + v.value, 0);
    return { dispatches: await sum(metrics.dispatches), failures: await sum(metrics.startFailures) };
  };
  const abortCalls = () => f.net.requestsTo('abort_job').length;

  /** A job whose submit_job has created its run on the net, its answer held; the cycle that started it is still running. */
  const startHeldAtSubmit = async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    f.net.fail('submit_job', { holdAnswer: true, times: 1 });
    const cycle = f.hub.gqlOk<Cycle>(CYCLE);
    await f.net.untilHeld('submit_job');
    const run = f.net.runByModel(modelId);
    if (!run) throw new Error('submit_job created no run');
    return { modelId, jobId, cycle, runId: run.job_id };
  };
  /** The start answered after the completion: it counts as started, ends as reported, its run untouched, the net free. */
  const expectStartedAfterCompletion = async (
    started: Awaited<ReturnType<typeof startHeldAtSubmit>>,
    before: { aborts: number; dispatches: number; failures: number },
    modelStatus: string,
  ) => {
    f.net.releaseHeld('submit_job');
    const { runPickupCycle } = await started.cycle;
    expect(runPickupCycle).toEqual({ started: [{ id: started.jobId, status: 'COMPLETED' }], failed: [] });
    expect(await jobOf(started.jobId, started.modelId)).toEqual({
      job: { status: 'COMPLETED', backendJobId: started.runId },
      model: { status: modelStatus },
    });
    expect(f.net.submitCount(started.modelId)).toBe(1);
    expect(abortCalls()).toBe(before.aborts);
    expect(f.net.runByModel(started.modelId)?.status).toBe('FINISHED');
    expect(await counted()).toEqual({ dispatches: before.dispatches + 1, failures: before.failures });
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null, sweep_pending: false });
  };
  /** While the start's answer is on the way its net stays BUSY with the job: nobody may hand it out. */
  const expectNetLeftToTheStart = async (jobId: string) => {
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: jobId, sweep_pending: false });
  };

  it('completeTraining before the submit_job answer: the job is COMPLETED, the start counts as started, nothing is aborted; reconcile meanwhile touches nothing', async () => {
    const before = { aborts: abortCalls(), ...(await counted()) };
    const started = await startHeldAtSubmit();
    f.net.setRunStatus(started.runId, 'FINISHED');
    const { completeTraining } = await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id status } }', {
      m: started.modelId,
    });
    expect(completeTraining).toEqual({ id: started.jobId, status: 'COMPLETED' });
    await expectNetLeftToTheStart(started.jobId);
    // reconcile and its sweep of held nets leave a net whose start is still being confirmed alone
    await f.hub.app.get(ReconcileService).reconcile();
    await expectNetLeftToTheStart(started.jobId);
    expect(abortCalls()).toBe(before.aborts);
    await expectStartedAfterCompletion(started, before, 'INITIATED');
  });

  /** Sessions of this test's database waiting for a lock. */
  const untilLockWaiters = (count: number) =>
    until(
      async () =>
        (
          await f.db.pool.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
          )
        ).rows[0].n >= count,
      { what: `${count} session(s) waiting for a lock` },
    );

  it('a completion that arrives while the submit_job answer is being recorded waits for it: one lock order, no deadlock', async () => {
    const before = { aborts: abortCalls(), ...(await counted()) };
    const started = await startHeldAtSubmit();
    f.net.setRunStatus(started.runId, 'FINISHED');
    // hold the job row, so that the start's confirmation and the completion both queue behind it, in that order
    const blocker = await f.db.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select 1 from job where id = $1 for update', [started.jobId]);
      f.net.releaseHeld('submit_job');
      await untilLockWaiters(1);
      const completion = f.hub.gql('mutation($m: ID!) { completeTraining(modelId: $m) { id status } }', { m: started.modelId });
      await untilLockWaiters(2);
      await blocker.query('commit');
      const answer = await Promise.race([
        completion,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('completeTraining still waits for a lock after 20 s: a deadlock')), 20_000).unref(),
        ),
      ]);
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({ completeTraining: { id: started.jobId, status: 'COMPLETED' } });
    } finally {
      blocker.release();
    }
    const { runPickupCycle } = await started.cycle;
    expect(runPickupCycle.started.map((job) => job.id)).toEqual([started.jobId]);
    expect(runPickupCycle.failed).toEqual([]);
    expect(await jobOf(started.jobId, started.modelId)).toEqual({
      job: { status: 'COMPLETED', backendJobId: started.runId },
      model: { status: 'INITIATED' },
    });
    expect(abortCalls()).toBe(before.aborts);
    expect(await counted()).toEqual({ dispatches: before.dispatches + 1, failures: before.failures });
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null, sweep_pending: false });
  });

  it('updateModelStatus RESULTS_UPLOADED before the submit_job answer: same, the model keeps the reported status', async () => {
    const before = { aborts: abortCalls(), ...(await counted()) };
    const started = await startHeldAtSubmit();
    for (const status of ['RUNNING', 'RESULTS_UPLOADED']) {
      await f.hub.gqlOk('mutation($m: ID!, $s: ModelStatus!) { updateModelStatus(modelId: $m, status: $s) { status } }', {
        m: started.modelId,
        s: status,
      });
    }
    f.net.setRunStatus(started.runId, 'FINISHED');
    expect((await jobOf(started.jobId, started.modelId)).job.status).toBe('COMPLETED');
    await expectNetLeftToTheStart(started.jobId);
    await expectStartedAfterCompletion(started, before, 'RESULTS_UPLOADED');
  });

  it.each([
    ['FINISHED', 'INITIATED', 'COMPLETED'],
    ['FAILED', 'ERROR', 'DELETED'],
  ] as const)(
    'reconcile while the submit_job answer is on the way and the run is already %s: the start counts, the next reconcile ends the job (model %s)',
    async (runStatus, modelStatus, jobStatus) => {
      const before = { aborts: abortCalls(), ...(await counted()) };
      const started = await startHeldAtSubmit();
      f.net.setRunStatus(started.runId, runStatus);
      // the hub cannot tell this run is the start's before it has its id: it waits
      expect(await f.hub.app.get(ReconcileService).reconcile()).toMatchObject({ completed: 0, failed: 0, swept: 0 });
      await expectNetLeftToTheStart(started.jobId);
      f.net.releaseHeld('submit_job');
      const { runPickupCycle } = await started.cycle;
      expect(runPickupCycle).toEqual({ started: [{ id: started.jobId, status: 'IN_PROGRESS' }], failed: [] });
      await f.hub.app.get(ReconcileService).reconcile();
      expect(await jobOf(started.jobId, started.modelId)).toEqual({
        job: { status: jobStatus, backendJobId: started.runId },
        model: { status: modelStatus },
      });
      expect(abortCalls()).toBe(before.aborts);
      expect(await counted()).toEqual({ dispatches: before.dispatches + 1, failures: before.failures });
      expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null });
    },
  );

  it('completeTraining while the job is only claimed (submit_job not sent): COMPLETED, the net free at once, the start stops before submit_job — neither started nor failed', async () => {
    const before = { aborts: abortCalls(), ...(await counted()) };
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    f.net.fail('check_client_status', { holdAnswer: true, times: 1 });
    const cycle = f.hub.gqlOk<Cycle>(CYCLE);
    await f.net.untilHeld('check_client_status');
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null });
    f.net.releaseHeld('check_client_status');
    expect((await cycle).runPickupCycle).toEqual({ started: [], failed: [] });
    expect(f.net.submitCount(modelId)).toBe(0);
    expect(await jobOf(jobId, modelId)).toEqual({
      job: { status: 'COMPLETED', backendJobId: null },
      model: { status: 'PENDING' },
    });
    expect(abortCalls()).toBe(before.aborts);
    expect(await counted()).toEqual({ dispatches: before.dispatches, failures: before.failures });
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null });
  });

  const failedSubmits: Array<[string, Fault]> = [
    ['HTTP 500', { status: 500 }],
    ['a connection reset', { reset: true }],
    ['a malformed answer', { status: 200, body: { job: 'not a string' } }],
  ];

  it.each(failedSubmits)(
    'submit_job answers %s after creating a run: the run is aborted and the net is free when runPickupCycle returns',
    async (_label, fault) => {
      const modelId = await f.s.newModel();
      const jobId = await f.s.queue(modelId);
      f.net.fail('submit_job', { ...fault, serveFirst: true, times: 1 });
      const { runPickupCycle } = await f.hub.gqlOk<Cycle>(CYCLE);
      expect(runPickupCycle).toEqual({ started: [], failed: [{ id: jobId, status: 'DELETED' }] });
      expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null, sweep_pending: false, lease_ms: null });
      const run = f.net.runByModel(modelId);
      expect(run?.status).toBe('STOPPED');
      expect(f.net.requestsTo('abort_job').map((r) => r.path)).toContain(`/abort_job/${run?.job_id}`);
      expect((await jobOf(jobId, modelId)).model.status).toBe('ERROR');
    },
  );

  it('a failed submit_job frees its net for the next queued job in the same runPickupCycle, long before the lease (120 s)', async () => {
    const failing = await f.s.newModel();
    const failingJob = await f.s.queue(failing);
    const next = await f.s.newModel();
    const nextJob = await f.s.queue(next);
    f.net.fail('submit_job', { status: 500, serveFirst: true, times: 1 });
    const { runPickupCycle } = await f.hub.gqlOk<Cycle>(CYCLE);
    expect(runPickupCycle).toEqual({
      started: [{ id: nextJob, status: 'IN_PROGRESS' }],
      failed: [{ id: failingJob, status: 'DELETED' }],
    });
    expect(f.net.runByModel(failing)?.status).toBe('STOPPED');
    expect(f.net.runByModel(next)?.status).toBe('RUNNING');
    expect(f.net.maxConcurrentActiveRuns).toBeLessThanOrEqual(1);
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: nextJob });
  });

  it('a failed submit_job whose sweep cannot reach the net: the net stays held (its lease), and a later sweep aborts the run and frees it', async () => {
    const failing = await f.s.newModel();
    const failingJob = await f.s.queue(failing);
    f.net.fail('submit_job', { status: 500, serveFirst: true, times: 1 });
    f.net.fail('list_jobs', { status: 503 });
    const first = await f.hub.gqlOk<Cycle>(CYCLE);
    expect(first.runPickupCycle).toEqual({ started: [], failed: [{ id: failingJob, status: 'DELETED' }] });
    const held = await scheduler();
    expect(held).toMatchObject({ status: 'BUSY', job_id: null, sweep_pending: true });
    expect(held.lease_ms).toBeGreaterThan(LEASE_MS - 30_000);
    expect(f.net.runByModel(failing)?.status).toBe('RUNNING');
    // the held net takes no job
    const next = await f.s.newModel();
    const nextJob = await f.s.queue(next);
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle).toEqual({ started: [], failed: [] });
    f.net.clearFaults('list_jobs');
    expect((await f.hub.app.get(ReconcileService).reconcile()).swept).toBe(1);
    expect(f.net.runByModel(failing)?.status).toBe('STOPPED');
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', sweep_pending: false });
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.started).toEqual([{ id: nextJob, status: 'IN_PROGRESS' }]);
  });
});
