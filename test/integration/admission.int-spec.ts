import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../../src/config/app-config.js';
import { startTestHub, testToken, type TestHub } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';
import { collect, listen, untilSubscribed, wsClient } from '../support/subscriptions.js';
import { until } from '../support/wait.js';

const SLOTS = Array.from({ length: 40 }, (_, i) => `site-${i + 1}`);
const JOB = `query($id: ID!) { job(id: $id) { id status endReason pendingReason pendingDetail notBefore attempts
  net { name } model { status } startAttempts { at outcome detail net { name } } } }`;
const CYCLE = 'mutation { runPickupCycle { started { id status } failed { id status } } }';

interface JobView {
  id: string;
  status: string;
  endReason: string | null;
  pendingReason: string | null;
  pendingDetail: string | null;
  notBefore: string | null;
  attempts: number;
  net: { name: string } | null;
  model: { status: string };
  startAttempts: Array<{ at: string; outcome: string; detail: string | null; net: { name: string } | null }>;
}

/** Short waits, so that the rules play out within a test; pickup on demand unless a test turns it on. */
const ADMISSION: Partial<AppConfig> = {
  admissionBackoffMs: 200,
  admissionBackoffMaxMs: 800,
  maxStartAttempts: 3,
  admissionMaxWaitMs: 60_000,
  netCallTimeoutMs: 2000,
};

describe.each(['nvflare', 'flower'] as const)('admission (%s): jobs wait instead of dying', (backend) => {
  const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS, backend, hub: { ...ADMISSION, logLevel: 'error' } });
  let auto: TestHub | null = null;

  const job = async (id: string, on: TestHub = f.hub) => (await on.gqlOk<{ job: JobView }>(JOB, { id })).job;
  /** The job (read through `on`) once `done` holds for it. */
  const jobWhen = (id: string, on: TestHub, done: (j: JobView) => boolean, what: string) =>
    until(
      async () => {
        const j = await job(id, on);
        return done(j) && j;
      },
      { what },
    );
  const netRow = async () =>
    (
      await f.db.pool.query<{ failed_calls: number; status: string }>(
        `select n.failed_calls, s.status from net n join scheduler s on s.net_id = n.id where n.name = 'net-1'`,
      )
    ).rows[0];

  const modelOf = async (jobId: string) =>
    (await f.db.pool.query<{ model_id: string }>('select model_id from job where id = $1', [jobId])).rows[0].model_id;

  afterEach(async () => {
    await auto?.close();
    auto = null;
    f.net.clearFaults();
    f.net.setClients(SLOTS);
    f.net.finishAll();
    await f.hub.gqlOk('mutation { runPickupCycle { started { id } } }');
    await f.db.pool.query(`update net set failed_calls = 0, retry_at = null`);
    await f.db.pool.query(`update job set status = 'DELETED', end_reason = 'REMOVED' where status = 'QUEUED'`);
    await f.db.pool.query(
      `with ended as (update job set status = 'COMPLETED', completed_at = now() where status = 'IN_PROGRESS' returning id)
       update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null, sweep_pending = false
       where job_id in (select id from ended) or sweep_pending`,
    );
  });

  afterAll(() => auto?.close());

  it('a 5xx before the run exists: back in the queue (RETRY_BACKOFF, same place), the net free but held back until a probe', async () => {
    // backoffs long enough to look at the wait before it ends
    const slow = await startTestHub(f.db.url, { ...ADMISSION, admissionBackoffMs: 2500, admissionBackoffMaxMs: 2500 });
    const first = await f.s.queue(await f.s.newModel());
    f.net.fail('upload_app', { status: 503, times: 1 });
    const { runPickupCycle } = await slow.gqlOk(CYCLE);
    await slow.close();
    expect(runPickupCycle).toEqual({ started: [], failed: [{ id: first, status: 'QUEUED' }] });

    const waiting = await job(first);
    expect(waiting).toMatchObject({ status: 'QUEUED', endReason: null, pendingReason: 'RETRY_BACKOFF', net: null });
    expect(waiting.pendingDetail).toMatch(/start 1 of 3 failed on net-1: .*upload_app failed: HTTP 503.*tried again at/);
    expect(new Date(waiting.notBefore!).getTime()).toBeGreaterThan(Date.now() - 1000);
    expect(waiting.startAttempts).toEqual([
      { at: expect.any(String), outcome: 'NET_ERROR', detail: expect.stringContaining('HTTP 503'), net: { name: 'net-1' } },
    ]);
    expect(await netRow()).toEqual({ failed_calls: 1, status: 'AVAILABLE' });
    expect(waiting.model.status).not.toBe('ERROR');

    // a job queued behind it does not get the held-back net either
    const second = await f.s.queue(await f.s.newModel());
    expect((await f.hub.gqlOk(CYCLE)).runPickupCycle).toEqual({ started: [], failed: [] });
    expect((await job(second)).pendingReason).toBe('WAITING_FOR_NET');
    expect(f.net.requestsTo('upload_app')).toHaveLength(1);

    // after the backoffs, a cycle probes the net (check_server_status) and the first job starts, ahead of the second
    const probesBefore = f.net.requestsTo('check_server_status').length;
    const started = await until(
      async () => {
        const list = (await f.hub.gqlOk(CYCLE)).runPickupCycle.started as Array<{ id: string }>;
        return list.length > 0 && list;
      },
      { what: 'the job starts after its backoff and the probe' },
    );
    expect(started.map((j) => j.id)).toEqual([first]);
    expect(f.net.requestsTo('check_server_status').length).toBeGreaterThan(probesBefore);
    expect(await netRow()).toMatchObject({ failed_calls: 0 });
    const running = await job(first);
    expect(running).toMatchObject({ status: 'IN_PROGRESS', pendingReason: null, notBefore: null, net: { name: 'net-1' } });
    expect(running.startAttempts.map((a) => a.outcome)).toEqual(['NET_ERROR', 'STARTED']);
    expect((await job(second)).pendingReason).toBe('WAITING_FOR_NET');
  });

  it('MAX_START_ATTEMPTS failed starts remove the job (START_FAILED, model ERROR); waiting jobs start by themselves', async () => {
    auto = await startTestHub(f.db.url, { ...ADMISSION, pickupIntervalMs: 60_000 }); // only the wake-ups drive it
    const id = await f.s.queue(await f.s.newModel());
    f.net.fail('submit_job', { status: 500 });
    const ended = await jobWhen(id, f.hub, (j) => j.status === 'DELETED', 'removed after 3 failed starts');
    expect(ended).toMatchObject({ endReason: 'START_FAILED', model: { status: 'ERROR' }, pendingReason: null });
    expect(ended.startAttempts.map((a) => a.outcome)).toEqual(['NET_ERROR', 'NET_ERROR', 'NET_ERROR']);
    const modelId = await modelOf(id);
    expect(f.net.requestsTo('submit_job').filter((r) => r.path.endsWith(modelId))).toHaveLength(3);
    // the last failed submit's sweep frees the net just after the job's end is committed
    await until(async () => (await netRow()).status === 'AVAILABLE', {
      what: 'the net swept and freed after the last failed submit',
    });
  });

  it('a 4xx: the net refused this job — removed at once (START_FAILED, attempt REJECTED), the net not held back', async () => {
    const refused = await f.s.queue(await f.s.newModel());
    f.net.fail('upload_app', { status: 422, times: 1 });
    const next = await f.s.newModel();
    const { runPickupCycle } = await f.hub.gqlOk(CYCLE);
    expect(runPickupCycle.failed).toEqual([{ id: refused, status: 'DELETED' }]);
    const ended = await job(refused);
    expect(ended).toMatchObject({ endReason: 'START_FAILED', model: { status: 'ERROR' } });
    expect(ended.startAttempts).toEqual([
      { at: expect.any(String), outcome: 'REJECTED', detail: expect.stringContaining('HTTP 422'), net: { name: 'net-1' } },
    ]);
    expect(await netRow()).toEqual({ failed_calls: 0, status: 'AVAILABLE' });
    const nextJob = await f.s.queue(next);
    expect((await f.hub.gqlOk(CYCLE)).runPickupCycle.started).toEqual([{ id: nextJob, status: 'IN_PROGRESS' }]);
  });

  it('FLIP mode (MAX_START_ATTEMPTS=1, ADMISSION_MAX_WAIT_MS=0): the first failure removes the job, as the seed does', async () => {
    const flip = await startTestHub(f.db.url, { ...ADMISSION, maxStartAttempts: 1, admissionMaxWaitMs: 0 });
    try {
      const id = await f.s.queue(await f.s.newModel());
      f.net.fail('check_client_status', { status: 503, times: 1 });
      const { runPickupCycle } = await flip.gqlOk(CYCLE);
      expect(runPickupCycle).toEqual({ started: [], failed: [{ id, status: 'DELETED' }] });
      expect(await job(id)).toMatchObject({ status: 'DELETED', endReason: 'START_FAILED', model: { status: 'ERROR' } });
      expect(await netRow()).toEqual({ failed_calls: 0, status: 'AVAILABLE' }); // free for the next job at once

      const offline = await f.s.queue(await f.s.newModel());
      f.net.setClients(SLOTS.slice(1), [SLOTS[0]]);
      const second = (await flip.gqlOk(CYCLE)).runPickupCycle;
      if (backend === 'nvflare') {
        expect(second.failed).toEqual([{ id: offline, status: 'DELETED' }]);
        expect(await job(offline)).toMatchObject({ endReason: 'ADMISSION_TIMEOUT', model: { status: 'ERROR' } });
        expect((await job(offline)).startAttempts.map((a) => a.outcome)).toEqual(['CLIENTS_OFFLINE']);
      } else {
        expect(second.started).toEqual([{ id: offline, status: 'IN_PROGRESS' }]); // Flower starts anyway
      }
    } finally {
      await flip.close();
    }
  });

  it('offline clients: the job waits (CLIENTS_OFFLINE, not a failed start), the net serves the next job, and it starts when they are back', async () => {
    // a backoff long enough that the wait is still on when it is read (past it, the job may start: WAITING_FOR_NET)
    auto = await startTestHub(f.db.url, {
      ...ADMISSION,
      pickupIntervalMs: 60_000,
      admissionBackoffMs: 3000,
      admissionBackoffMaxMs: 3000,
    });
    f.net.setClients(SLOTS.slice(1), [SLOTS[0]]); // site-1 offline: the scenario's first trust
    const waiting = await f.s.queue(await f.s.newModel());
    if (backend === 'flower') {
      // Flower starts with DISCONNECTED clients (logged)
      await jobWhen(waiting, auto, (j) => j.startAttempts.some((a) => a.outcome === 'STARTED'), 'started');
      const started = await job(waiting, auto); // read again: its status and its attempts were two reads
      expect(started.status).toBe('IN_PROGRESS');
      // never waiting for its clients (a loaded machine may cost a retried call, never a CLIENTS_OFFLINE)
      expect(started.startAttempts.map((a) => a.outcome)).not.toContain('CLIENTS_OFFLINE');
      return;
    }
    await jobWhen(waiting, auto, (j) => j.startAttempts[0]?.outcome === 'CLIENTS_OFFLINE', 'back in the queue');
    const offline = await job(waiting, auto); // read again: the row, its attempts and its reason were three reads
    expect(offline).toMatchObject({ status: 'QUEUED', pendingReason: 'CLIENTS_OFFLINE', endReason: null });
    expect(offline.startAttempts[0]).toMatchObject({ outcome: 'CLIENTS_OFFLINE', detail: 'clients offline: site-1' });
    expect(offline.pendingDetail).toContain('site-1');
    expect(await netRow()).toEqual({ failed_calls: 0, status: 'AVAILABLE' });

    // another model's job, with online clients only, takes the net while the first waits
    const other = await f.s.newModel('other', [f.s.trustIds[1]]);
    const otherJob = await f.s.queue(other, [f.s.trustIds[1]]);
    await jobWhen(otherJob, auto, (j) => j.status === 'IN_PROGRESS', 'the other job runs');
    f.net.finishAll();
    await auto.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { status } }', { m: other });

    f.net.setClients(SLOTS);
    await jobWhen(
      waiting,
      auto,
      (j) => j.startAttempts.at(-1)?.outcome === 'STARTED',
      'starts by itself once its clients are back',
    );
    const started = await job(waiting, auto); // read again, as above
    expect(started.status).toBe('IN_PROGRESS');
    expect(started.startAttempts.at(-1)!.outcome).toBe('STARTED');
    expect(started.startAttempts.slice(0, -1).every((a) => a.outcome === 'CLIENTS_OFFLINE')).toBe(true);
    expect(started.model.status).not.toBe('ERROR');
  });

  it('ADMISSION_MAX_WAIT_MS: a job whose clients stay offline is removed (ADMISSION_TIMEOUT, model ERROR)', async () => {
    auto = await startTestHub(f.db.url, { ...ADMISSION, pickupIntervalMs: 100, admissionMaxWaitMs: 700 });
    f.net.setClients(SLOTS.slice(1), [SLOTS[0]]);
    const id = await f.s.queue(await f.s.newModel());
    if (backend === 'flower') {
      await jobWhen(id, auto, (j) => j.status === 'IN_PROGRESS', 'Flower starts it');
      return;
    }
    const ended = await jobWhen(id, auto, (j) => j.status === 'DELETED', 'removed');
    expect(ended).toMatchObject({ endReason: 'ADMISSION_TIMEOUT', model: { status: 'ERROR' } });
    expect(ended.startAttempts.length).toBeGreaterThan(0);
    expect(ended.startAttempts.every((a) => a.outcome === 'CLIENTS_OFFLINE')).toBe(true);
  });

  it('pendingReason: DEPLOYMENT_MODE, NO_NET (every net drained), WAITING_FOR_NET', async () => {
    const id = await f.s.queue(await f.s.newModel());
    await f.hub.gqlOk('mutation { setDeploymentMode(enabled: true) { enabled } }');
    expect(await job(id)).toMatchObject({ pendingReason: 'DEPLOYMENT_MODE', notBefore: null });
    await f.hub.gqlOk('mutation { setDeploymentMode(enabled: false) { enabled } }');
    const { nets } = await f.hub.gqlOk<{ nets: Array<{ id: string }> }>('{ nets { id } }');
    await f.hub.gqlOk('mutation($id: ID!) { drainNet(netId: $id) { drained } }', { id: nets[0].id });
    expect(await job(id)).toMatchObject({ pendingReason: 'NO_NET', pendingDetail: 'every net is drained' });
    await f.hub.gqlOk('mutation($id: ID!) { resumeNet(netId: $id) { drained } }', { id: nets[0].id });
    expect((await job(id)).pendingReason).toBe('WAITING_FOR_NET');
    expect((await f.hub.gqlOk(CYCLE)).runPickupCycle.started).toEqual([{ id, status: 'IN_PROGRESS' }]);
    expect((await job(id)).pendingReason).toBeNull();
  });

  it('endReason on every end path: REMOVED, STOPPED, UNAPPROVED_TRUST, RUN_FAILED', async () => {
    const removed = await f.s.queue(await f.s.newModel());
    await f.hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { status } }', { id: removed });
    expect((await job(removed)).endReason).toBe('REMOVED');

    const stoppedModel = await f.s.newModel();
    const stopped = await f.s.queue(stoppedModel);
    await f.hub.gqlOk('mutation($m: ID!) { stopTraining(modelId: $m) { status } }', { m: stoppedModel });
    expect((await job(stopped)).endReason).toBe('STOPPED');

    const unapprovedModel = await f.s.newModel();
    const unapproved = await f.s.queue(unapprovedModel);
    await f.hub.gqlOk('mutation($m: ID!, $t: [ID!]!) { updateModelApprovedTrusts(modelId: $m, trustIds: $t) { id } }', {
      m: unapprovedModel,
      t: [f.s.trustIds[0]],
    });
    await f.hub.gqlOk(CYCLE);
    expect(await job(unapproved)).toMatchObject({ status: 'DELETED', endReason: 'UNAPPROVED_TRUST' });

    const failedModel = await f.s.newModel();
    const failed = await f.s.queue(failedModel);
    await f.hub.gqlOk(CYCLE);
    const run = f.net.runByModel(failedModel)!;
    f.net.setRunStatus(run.job_id, 'FAILED');
    await f.hub.app.get((await import('../../src/modules/schedulers/running/reconcile.service.js')).ReconcileService).reconcile();
    expect(await job(failed)).toMatchObject({ status: 'DELETED', endReason: 'RUN_FAILED', model: { status: 'ERROR' } });
    expect(await netRow()).toMatchObject({ status: 'AVAILABLE' });
  });

  it('jobUpdated carries the admission fields: back in the queue with its reason, removed with its endReason', async () => {
    const live = await startTestHub(f.db.url, { ...ADMISSION, admissionBackoffMs: 5000, admissionBackoffMaxMs: 5000 });
    const client = wsClient(await listen(live), await testToken(['viewer']));
    try {
      const modelId = await f.s.newModel();
      const updates = collect<{
        status: string;
        pendingReason: string | null;
        endReason: string | null;
        startAttempts: unknown[];
      }>(
        client,
        'subscription($m: ID) { jobUpdated(modelId: $m) { status pendingReason endReason startAttempts { outcome } } }',
        { m: modelId },
      );
      await untilSubscribed(live, 'jobUpdated'); // the subscription is registered before the changes it must see
      const id = await f.s.queue(modelId);
      f.net.fail('upload_app', { status: 503, times: 1 });
      await live.gqlOk(CYCLE);
      await updates.until((u) => u.status === 'QUEUED' && u.pendingReason === 'RETRY_BACKOFF');
      await live.gqlOk('mutation($id: ID!) { removeJob(id: $id) { id } }', { id });
      await updates.until((u) => u.status === 'DELETED' && u.endReason === 'REMOVED');
      expect(updates.errors).toEqual([]);
      expect(updates.seen.find((u) => u.pendingReason === 'RETRY_BACKOFF')?.startAttempts).toEqual([{ outcome: 'NET_ERROR' }]);
    } finally {
      await client.dispose();
      await live.close();
    }
  });
});
