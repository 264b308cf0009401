import { afterEach, describe, expect, it } from '@jest/globals';
import { ReconcileService } from '../../src/modules/schedulers/running/reconcile.service.js';
import pg from 'pg';
import { RecoveryService } from '../../src/modules/schedulers/net-state/recovery.service.js';
import { confirmGraceMs, RECONNECT_GRACE_MS } from '../../src/modules/schedulers/net-state/start-lease.js';
import { useNetHub } from '../support/net-hub.js';
import { sleep, until } from '../support/wait.js';

const SLOTS = Array.from({ length: 10 }, (_, i) => `site-${i + 1}`);
const LEASE_MS = 400;
/** a submit_job slower than the lease, with room for the test's recovery call in between */
const SLOW_SUBMIT_MS = LEASE_MS + 800;
type PickupCycleAnswer = { runPickupCycle: { started: unknown[]; failed: unknown[] } };

describe('recovery, reconcile, stop and status reports', () => {
  const f = useNetHub({
    nets: [{ name: 'net-1' }],
    kitSlots: SLOTS,
    // a recovered job may be claimed again at once (its backoff is the admission tests' subject)
    hub: {
      netLeaseMs: LEASE_MS,
      runMissingGraceMs: 0,
      netCallTimeoutMs: 2000,
      maxStartAttempts: 2,
      admissionBackoffMs: 1,
      admissionBackoffMaxMs: 1,
    },
  });

  afterEach(() => f.reset());

  const scheduler = async () =>
    (
      await f.db.pool.query<{ status: string; job_id: string | null; sweep_pending: boolean }>(
        'select status, job_id, sweep_pending from scheduler',
      )
    ).rows[0];
  const jobRow = async (id: string) =>
    (
      await f.db.pool.query<{ status: string; net_id: string | null; attempts: number; end_reason: string | null }>(
        'select status, net_id, attempts, end_reason from job where id = $1',
        [id],
      )
    ).rows[0];
  const modelStatus = async (id: string) =>
    (await f.db.pool.query<{ status: string }>('select status from model where id = $1', [id])).rows[0].status;
  const start = async (modelId: string) => {
    const jobId = await f.s.queue(modelId);
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id backendJobId } } }');
    expect(runPickupCycle.started.map((j: { id: string }) => j.id)).toEqual([jobId]);
    return { jobId, backendJobId: runPickupCycle.started[0].backendJobId as string };
  };

  /** waits until the scheduler's lease ran out by the database clock */
  const untilLeaseExpired = () =>
    until(
      async () =>
        (await f.db.pool.query<{ expired: boolean }>('select lease_until < now() as expired from scheduler')).rows[0].expired,
      { what: 'the lease ran out', intervalMs: 5 },
    );

  it('a net claimed alone is freed when its lease expires (by the database clock)', async () => {
    await f.hub.gqlOk('mutation { claimAvailableNet { id } }');
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: null });
    expect((await f.hub.app.get(RecoveryService).recoverExpiredLeases()).freed).toBe(0);
    await untilLeaseExpired();
    expect((await f.hub.app.get(RecoveryService).recoverExpiredLeases()).freed).toBe(1);
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null });
  });

  it('a job claimed but never started goes back to the queue; after MAX_START_ATTEMPTS it is removed', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { claimAvailableNet } = await f.hub.gqlOk('mutation { claimAvailableNet { id } }');
      await f.hub.gqlOk('mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { id } }', { id: claimAvailableNet.id });
      expect(await jobRow(jobId)).toMatchObject({ status: 'IN_PROGRESS', attempts: attempt });
      await untilLeaseExpired();
      await f.hub.app.get(RecoveryService).recoverExpiredLeases();
      expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null });
      if (attempt < 2) expect(await jobRow(jobId)).toMatchObject({ status: 'QUEUED', net_id: null });
    }
    expect((await jobRow(jobId)).status).toBe('DELETED');
    expect(await modelStatus(modelId)).toBe('ERROR');
  });

  it('a confirmed run is never touched by lease recovery', async () => {
    const modelId = await f.s.newModel();
    const { jobId } = await start(modelId);
    await sleep(LEASE_MS + 100); // time passes on purpose: the claim's lease would have run out
    await f.hub.app.get(RecoveryService).recoverExpiredLeases();
    expect(await jobRow(jobId)).toMatchObject({ status: 'IN_PROGRESS' });
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: jobId });
  });

  /** Lease recovery takes nobody for gone within RECONNECT_GRACE_MS of the server's start: wait that out. */
  const serverUpForReconnectGrace = () =>
    until(
      async () =>
        (
          await f.db.pool.query<{ up: boolean }>(
            `select pg_postmaster_start_time() < now() - $1 * interval '1 millisecond' as up`,
            [RECONNECT_GRACE_MS],
          )
        ).rows[0].up,
      { what: 'the server up for the reconnect grace', intervalMs: 100 },
    );
  const phaseOf = async (jobId: string) =>
    (await f.db.pool.query<{ start_phase: string | null }>('select start_phase from job where id = $1', [jobId])).rows[0]
      .start_phase;
  /** A job claimed on the net and marked as having reached submit_job by `claimedBy` (no HTTP call made). */
  const claimAsSubmitting = async (claimedBy: string) => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    const { claimAvailableNet } = await f.hub.gqlOk('mutation { claimAvailableNet { id } }');
    await f.hub.gqlOk('mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { id } }', { id: claimAvailableNet.id });
    await f.db.pool.query(`update job set start_phase = 'SUBMITTING', claimed_by = $2 where id = $1`, [jobId, claimedBy]);
    return { modelId, jobId };
  };

  /** A job started by a pickup cycle whose submit_job answers after the lease (under the call timeout); returns once it is SUBMITTING. */
  const startWithSlowSubmit = async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    f.net.fail('submit_job', { delayMs: SLOW_SUBMIT_MS, times: 1 });
    const cycle = f.hub.gqlOk<PickupCycleAnswer>('mutation { runPickupCycle { started { id backendJobId } failed { id } } }');
    await until(async () => (await phaseOf(jobId)) === 'SUBMITTING', { what: 'the start reached submit_job', intervalMs: 5 });
    return { modelId, jobId, cycle };
  };
  /** The job is back in the queue and its net held for a sweep. */
  const expectRequeuedNetHeld = async (jobId: string) => {
    expect(await jobRow(jobId)).toMatchObject({ status: 'QUEUED', net_id: null });
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: null, sweep_pending: true });
  };
  /** The cycle reports the start, and the job runs once, on its net, not aborted. */
  const expectOneRun = async (modelId: string, jobId: string, cycle: Promise<PickupCycleAnswer>) => {
    const { runPickupCycle } = await cycle;
    const run = f.net.runByModel(modelId);
    expect(runPickupCycle.started).toEqual([{ id: jobId, backendJobId: run?.job_id }]);
    expect(runPickupCycle.failed).toEqual([]);
    expect(await jobRow(jobId)).toMatchObject({ status: 'IN_PROGRESS' });
    expect(await phaseOf(jobId)).toBe('RUNNING');
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: jobId, sweep_pending: false });
    expect(run?.status).toBe('RUNNING'); // not aborted
    expect(f.net.submitCount(modelId)).toBe(1);
  };

  it('a start that reached submit_job is left to its claiming instance while that instance has a session: recovered only after the lease plus the confirmation grace', async () => {
    await serverUpForReconnectGrace();
    // a session standing for a live instance that never confirms (hung); its application_name is the claimer's name
    const alive = new pg.Client({ connectionString: f.db.url, application_name: 'fl-scheduler/hung' });
    await alive.connect();
    try {
      const { jobId } = await claimAsSubmitting('fl-scheduler/hung');
      await untilLeaseExpired();
      expect(await f.hub.app.get(RecoveryService).recoverExpiredLeases()).toMatchObject({ requeued: 0, heldForSweep: 0 });
      expect(await jobRow(jobId)).toMatchObject({ status: 'IN_PROGRESS' });
      // the grace is a bound: past it, the start is recovered although its instance still has a session
      const grace = confirmGraceMs(LEASE_MS);
      const pastLeaseMs = async () =>
        (
          await f.db.pool.query<{ ms: number }>(
            `select (extract(epoch from now() - lease_until) * 1000)::float8 as ms from scheduler`,
          )
        ).rows[0].ms;
      // late in the grace, with room for a slow recovery call: still left alone
      await until(async () => (await pastLeaseMs()) >= grace - 2000, { what: 'late in the grace', intervalMs: 50 });
      const late = await f.hub.app.get(RecoveryService).recoverExpiredLeases();
      expect(await pastLeaseMs()).toBeLessThan(grace); // the call was made within the grace
      expect(late.requeued).toBe(0);
      await until(async () => (await pastLeaseMs()) > grace, { what: 'the grace is over', intervalMs: 50 });
      expect(await f.hub.app.get(RecoveryService).recoverExpiredLeases()).toMatchObject({ requeued: 1, heldForSweep: 1 });
      await expectRequeuedNetHeld(jobId);
    } finally {
      await alive.end();
    }
  }, 40_000);

  it('a start that reached submit_job whose claiming instance has no session left (it died) is recovered as soon as its lease runs out', async () => {
    await serverUpForReconnectGrace();
    const { jobId } = await claimAsSubmitting('fl-scheduler/gone');
    await untilLeaseExpired();
    expect(await f.hub.app.get(RecoveryService).recoverExpiredLeases()).toMatchObject({ requeued: 1, heldForSweep: 1 });
    await expectRequeuedNetHeld(jobId);
  });

  it('a completion that overtook a start whose instance then died: the job stays COMPLETED, recovery holds the net for a sweep, the sweep frees it', async () => {
    await serverUpForReconnectGrace();
    const { modelId, jobId } = await claimAsSubmitting('fl-scheduler/gone');
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    // the net is left to the start, which never answers
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: jobId, sweep_pending: false });
    await untilLeaseExpired();
    expect(await f.hub.app.get(RecoveryService).recoverExpiredLeases()).toMatchObject({
      requeued: 0,
      retired: 0,
      heldForSweep: 1,
    });
    expect(await jobRow(jobId)).toMatchObject({ status: 'COMPLETED' });
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: null, sweep_pending: true });
    expect((await f.hub.app.get(ReconcileService).reconcile()).swept).toBe(1);
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null, sweep_pending: false });
    expect(await modelStatus(modelId)).not.toBe('ERROR');
  });

  it('a submit that outlives the lease on a live instance is not recovered under it: the start confirms, one run', async () => {
    await serverUpForReconnectGrace();
    const { modelId, jobId, cycle } = await startWithSlowSubmit();
    await untilLeaseExpired();
    // this hub claimed the job and its sessions are there: recovery leaves the start alone
    expect(await f.hub.app.get(RecoveryService).recoverExpiredLeases()).toMatchObject({ requeued: 0, heldForSweep: 0 });
    await expectOneRun(modelId, jobId, cycle);
  });

  it('a start confirmed after recovery requeued its job (its instance looked gone) takes the job back: one run, on its net', async () => {
    await serverUpForReconnectGrace();
    const { modelId, jobId, cycle } = await startWithSlowSubmit();
    // as if this instance's sessions had been cut (a network partition): recovery takes it for gone
    await f.db.pool.query(`update job set claimed_by = 'fl-scheduler/partitioned' where id = $1`, [jobId]);
    await untilLeaseExpired();
    expect((await f.hub.app.get(RecoveryService).recoverExpiredLeases()).requeued).toBe(1);
    await expectRequeuedNetHeld(jobId);
    await expectOneRun(modelId, jobId, cycle);
    expect(await modelStatus(modelId)).toBe('INITIATED');
  });

  it.each([
    ['FINISHED', 'COMPLETED', 'INITIATED'],
    ['FAILED', 'DELETED', 'ERROR'],
    ['STOPPED', 'DELETED', 'ERROR'],
  ] as const)('reconcile: a run %s on the net → job %s, model %s, net free', async (runStatus, jobStatus, model) => {
    const modelId = await f.s.newModel();
    const { jobId, backendJobId } = await start(modelId);
    const running = await f.hub.app.get(ReconcileService).reconcile();
    expect(running).toMatchObject({ completed: 0, failed: 0 });
    f.net.setRunStatus(backendJobId, runStatus);
    await f.hub.app.get(ReconcileService).reconcile();
    expect((await jobRow(jobId)).status).toBe(jobStatus);
    expect((await jobRow(jobId)).end_reason).toBe(jobStatus === 'DELETED' ? 'RUN_FAILED' : null);
    expect(await modelStatus(modelId)).toBe(model);
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null });
  });

  it('reconcile: a run the net no longer lists (net restarted) is failed after the grace period', async () => {
    const modelId = await f.s.newModel();
    const { jobId } = await start(modelId);
    f.net.forgetRuns();
    await f.hub.app.get(ReconcileService).reconcile();
    await f.hub.app.get(ReconcileService).reconcile();
    expect(await jobRow(jobId)).toMatchObject({ status: 'DELETED', end_reason: 'RUN_FAILED' });
    expect(await modelStatus(modelId)).toBe('ERROR');
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE' });
  });

  it('reconcile: an unreachable net changes nothing', async () => {
    const modelId = await f.s.newModel();
    const { jobId } = await start(modelId);
    await f.net.stop();
    const result = await f.hub.app.get(ReconcileService).reconcile();
    expect(result.unreachableNets).toBe(1);
    expect((await jobRow(jobId)).status).toBe('IN_PROGRESS');
  });

  it('stopTraining aborts the run on its net and frees it', async () => {
    const modelId = await f.s.newModel();
    const { jobId, backendJobId } = await start(modelId);
    const { stopTraining } = await f.hub.gqlOk('mutation($m: ID!) { stopTraining(modelId: $m) { id status } }', { m: modelId });
    expect(stopTraining).toEqual({ id: modelId, status: 'STOPPED' });
    expect(f.net.requestsTo('abort_job').map((r) => r.path)).toContain(`/abort_job/${backendJobId}`);
    expect(f.net.runs().find((r) => r.job_id === backendJobId)?.status).toBe('STOPPED');
    expect((await jobRow(jobId)).status).toBe('DELETED');
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null, sweep_pending: false });
  });

  it('stopTraining succeeds with the net down; the net is held until the run can be aborted', async () => {
    const modelId = await f.s.newModel();
    const { jobId, backendJobId } = await start(modelId);
    await f.net.stop();
    const { stopTraining } = await f.hub.gqlOk('mutation($m: ID!) { stopTraining(modelId: $m) { status } }', { m: modelId });
    expect(stopTraining.status).toBe('STOPPED');
    expect((await jobRow(jobId)).status).toBe('DELETED');
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: null, sweep_pending: true });

    await f.net.restart();
    const result = await f.hub.app.get(ReconcileService).reconcile();
    expect(result.swept).toBe(1);
    expect(f.net.runs().find((r) => r.job_id === backendJobId)?.status).toBe('STOPPED');
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', sweep_pending: false });
  });

  it('updateModelStatus: entering RESULTS_UPLOADED completes the job and frees the net, once; late reports after STOPPED are ignored', async () => {
    const modelId = await f.s.newModel();
    const { jobId } = await start(modelId);
    const report = (status: string) =>
      f.hub.gql('mutation($m: ID!, $s: ModelStatus!) { updateModelStatus(modelId: $m, status: $s) { status } }', {
        m: modelId,
        s: status,
      });
    expect((await report('RUNNING')).data?.updateModelStatus).toEqual({ status: 'RUNNING' });
    expect(await scheduler()).toMatchObject({ status: 'BUSY', job_id: jobId });
    expect((await report('RESULTS_UPLOADED')).data?.updateModelStatus).toEqual({ status: 'RESULTS_UPLOADED' });
    expect((await jobRow(jobId)).status).toBe('COMPLETED');
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null });
    expect((await report('RESULTS_UPLOADED')).data?.updateModelStatus).toEqual({ status: 'RESULTS_UPLOADED' });
    expect((await report('RUNNING')).errors?.[0].extensions?.code).toBe('CONFLICT');

    const other = await f.s.newModel();
    await start(other);
    await f.hub.gqlOk('mutation($m: ID!) { stopTraining(modelId: $m) { status } }', { m: other });
    const late = await f.hub.gqlOk('mutation($m: ID!) { updateModelStatus(modelId: $m, status: RESULTS_UPLOADED) { status } }', {
      m: other,
    });
    expect(late.updateModelStatus.status).toBe('STOPPED');
  });

  it('deployment mode: running jobs go on, nothing new is picked up until it is turned off', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    const { setDeploymentMode } = await f.hub.gqlOk(
      'mutation { setDeploymentMode(enabled: true) { enabled since busyNets schedulers { status } } }',
    );
    expect(setDeploymentMode).toMatchObject({ enabled: true, busyNets: 0 });
    expect((await f.hub.gqlOk('mutation { runPickupCycle { started { id } } }')).runPickupCycle.started).toEqual([]);
    expect(await f.hub.gqlOk('mutation { claimAvailableNet { id } }')).toEqual({ claimAvailableNet: null });
    const { deploymentStatus } = await f.hub.gqlOk('{ deploymentStatus { enabled } }');
    expect(deploymentStatus.enabled).toBe(true);
    await f.hub.gqlOk('mutation { setDeploymentMode(enabled: false) { enabled } }');
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id } } }');
    expect(runPickupCycle.started).toEqual([{ id: jobId }]);
  });

  it('removeJob of a running job aborts its run and frees the net', async () => {
    const modelId = await f.s.newModel();
    const { jobId, backendJobId } = await start(modelId);
    const { removeJob } = await f.hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { status startedAt } }', { id: jobId });
    expect(removeJob).toEqual({ status: 'DELETED', startedAt: null });
    expect(f.net.runs().find((r) => r.job_id === backendJobId)?.status).toBe('STOPPED');
    expect(await scheduler()).toMatchObject({ status: 'AVAILABLE', job_id: null });
  });
});
