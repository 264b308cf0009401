import { afterEach, describe, expect, it } from '@jest/globals';
import type { Fault, NetCallName } from '../support/fake-net.js';
import { useNetHub } from '../support/net-hub.js';

const SLOTS = Array.from({ length: 40 }, (_, i) => `site-${i + 1}`);
const TIMEOUT_MS = 1_000; // well above a healthy local call on a loaded machine
/** far above the timeout, so a loaded machine passes; a hang (no timeout) still fails */
const HANG_BOUND_MS = 15_000;

/** One net per hub so that every start goes to the net under test. */
describe.each(['nvflare', 'flower'] as const)('a failing start (%s)', (backend) => {
  const f = useNetHub({
    nets: [{ name: 'net-1' }],
    backend,
    kitSlots: SLOTS,
    // FLIP's fail-fast mode: every failed start removes its job (the retries: admission.int-spec.ts)
    hub: { netCallTimeoutMs: TIMEOUT_MS, maxStartAttempts: 1, admissionMaxWaitMs: 0 },
  });

  afterEach(() => f.resetNets());

  async function expectCleanFailure(modelId: string, jobId: string): Promise<void> {
    const { job, model, schedulers } = await f.hub.gqlOk(
      'query($j: ID!, $m: ID!) { job(id: $j) { status startedAt } model(id: $m) { status } schedulers { status job { id } } }',
      { j: jobId, m: modelId },
    );
    expect(job).toEqual({ status: 'DELETED', startedAt: null });
    expect(model.status).toBe('ERROR');
    expect(schedulers).toEqual([{ status: 'AVAILABLE', job: null }]);
  }

  const faults: Array<[string, NetCallName, Fault]> = [
    ['HTTP 500 on upload_app', 'upload_app', { status: 500 }],
    ['HTTP 503 on check_client_status', 'check_client_status', { status: 503 }],
    ['a timeout on check_client_status', 'check_client_status', { delayMs: TIMEOUT_MS * 3 }],
    ['a connection reset on upload_app', 'upload_app', { reset: true }],
    ['a malformed client list', 'check_client_status', { status: 200, body: 'not json' }],
  ];

  it.each(faults)(
    '%s: the job is removed, the model errors, the net is free, the cycle reports it',
    async (_label, call, fault) => {
      const modelId = await f.s.newModel();
      const jobId = await f.s.queue(modelId);
      f.net.fail(call, fault);
      const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id } failed { id status } } }');
      expect(runPickupCycle).toEqual({ started: [], failed: [{ id: jobId, status: 'DELETED' }] });
      await expectCleanFailure(modelId, jobId);
      expect(f.net.submitCount(modelId)).toBe(0);
    },
  );

  it('no answer within NET_CALL_TIMEOUT_MS: startTraining answers NET_UNAVAILABLE saying so, after the timeout', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    const { claimAvailableNet } = await f.hub.gqlOk('mutation { claimAvailableNet { id } }');
    await f.hub.gqlOk('mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { id } }', { id: claimAvailableNet.id });
    f.net.fail('upload_app', { hang: true, times: 1 });
    const began = Date.now();
    const response = await f.hub.gql(
      'mutation($m: ID!, $j: ID!, $t: [ID!]!) { startTraining(modelId: $m, jobId: $j, trustIds: $t) { id } }',
      { m: modelId, j: jobId, t: f.s.trustIds },
    );
    const tookMs = Date.now() - began;
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'NET_UNAVAILABLE', net: 'net-1', call: 'upload_app' });
    expect(response.errors?.[0].message).toMatch(new RegExp(`net-1.*no answer within ${TIMEOUT_MS} ms`));
    expect(tookMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(tookMs).toBeLessThan(HANG_BOUND_MS); // the call hangs for ever: any answer is the timeout's
    await expectCleanFailure(modelId, jobId);
  });

  it('connection refused: startTraining answers NET_UNAVAILABLE naming the net and the call', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    const { claimAvailableNet } = await f.hub.gqlOk('mutation { claimAvailableNet { id } }');
    await f.hub.gqlOk('mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { id } }', { id: claimAvailableNet.id });
    await f.net.stop();
    const response = await f.hub.gql(
      'mutation($m: ID!, $j: ID!, $t: [ID!]!) { startTraining(modelId: $m, jobId: $j, trustIds: $t) { id } }',
      {
        m: modelId,
        j: jobId,
        t: f.s.trustIds,
      },
    );
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'NET_UNAVAILABLE', net: 'net-1', call: 'check_client_status' });
    expect(response.errors?.[0].message).toMatch(/net-1.*connection refused/);
    await expectCleanFailure(modelId, jobId);
  });

  it('a slow net within the timeout still starts', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    f.net.fail('submit_job', { delayMs: TIMEOUT_MS / 3 });
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id status backendJobId } } }');
    expect(runPickupCycle.started).toEqual([
      { id: jobId, status: 'IN_PROGRESS', backendJobId: f.net.runByModel(modelId)?.job_id },
    ]);
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
  });

  it(
    backend === 'nvflare' ? 'an offline client fails the start' : 'an offline client is logged and the start goes on',
    async () => {
      const modelId = await f.s.newModel();
      const jobId = await f.s.queue(modelId);
      f.net.setClients(
        SLOTS.filter((slot) => slot !== f.s.slotNames[1]),
        [f.s.slotNames[1]],
      );
      const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id } failed { id } } }');
      if (backend === 'nvflare') {
        expect(runPickupCycle).toEqual({ started: [], failed: [{ id: jobId }] });
        await expectCleanFailure(modelId, jobId);
        expect(f.net.requestsTo('upload_app').filter((r) => r.path.includes(modelId))).toHaveLength(0);
      } else {
        expect(runPickupCycle).toEqual({ started: [{ id: jobId }], failed: [] });
        expect(f.net.submitCount(modelId)).toBe(1);
        await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
      }
    },
  );

  it('submit_job times out after creating a run: the net is swept at once (the run aborted) and free when the cycle returns', async () => {
    f.net.finishAll();
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    f.net.fail('submit_job', { serveFirst: true, delayMs: TIMEOUT_MS * 3, times: 1 });
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { failed { id status } } }');
    expect(runPickupCycle.failed).toEqual([{ id: jobId, status: 'DELETED' }]);
    expect(f.net.runByModel(modelId)?.status).toBe('STOPPED');
    const freed = await f.db.pool.query(`select status, sweep_pending from scheduler`);
    expect(freed.rows).toEqual([{ status: 'AVAILABLE', sweep_pending: false }]);
  });

  it('a submit_job that reaches the net only after the hub gave up: the next job starts, and reconcile aborts the late run as an orphan', async () => {
    f.net.finishAll();
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    f.net.fail('submit_job', { delayMs: TIMEOUT_MS * 3, times: 1 });
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { failed { id status } } }');
    expect(runPickupCycle.failed).toEqual([{ id: jobId, status: 'DELETED' }]);
    // the sweep found nothing yet and freed the net; the run arrives late
    await fetch(`${f.net.url}/submit_job/${modelId}`, { method: 'POST' });
    const nextModel = await f.s.newModel();
    const nextJob = await f.s.queue(nextModel);
    const next = await f.hub.gqlOk('mutation { runPickupCycle { started { id } } }');
    expect(next.runPickupCycle.started).toEqual([{ id: nextJob }]);
    const { ReconcileService } = await import('../../src/modules/schedulers/running/reconcile.service.js');
    await f.hub.app.get(ReconcileService).reconcile();
    expect(f.net.runByModel(modelId)?.status).toBe('STOPPED');
    expect(f.net.runByModel(nextModel)?.status).toBe('RUNNING');
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: nextModel });
  });

  it('a start that lacks a cohort query or a kit slot fails with a clear error and no net call', async () => {
    const { createProject } = await f.hub.gqlOk('mutation { createProject(input: { name: "no cohort" }) { id } }');
    const { createModel } = await f.hub.gqlOk(
      'mutation($p: ID!, $t: [ID!]!) { createModel(input: { projectId: $p, name: "m", approvedTrustIds: $t }) { id } }',
      {
        p: createProject.id,
        t: f.s.trustIds,
      },
    );
    const jobId = await f.s.queue(createModel.id);
    const before = f.net.requests.length;
    const { claimAvailableNet } = await f.hub.gqlOk('mutation { claimAvailableNet { id } }');
    await f.hub.gqlOk('mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { id } }', { id: claimAvailableNet.id });
    const response = await f.hub.gql(
      'mutation($m: ID!, $j: ID!, $t: [ID!]!) { startTraining(modelId: $m, jobId: $j, trustIds: $t) { id } }',
      {
        m: createModel.id,
        j: jobId,
        t: f.s.trustIds,
      },
    );
    expect(response.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(response.errors?.[0].message).toMatch(/cohort query/);
    expect(f.net.requests.length).toBe(before);
    await expectCleanFailure(createModel.id, jobId);
  });
});
