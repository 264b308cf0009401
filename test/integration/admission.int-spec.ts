import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../../src/config/app-config.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, testToken, type TestHub } from '../support/hub.js';
import { collect, wsClient } from '../support/subscriptions.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = Array.from({ length: 40 }, (_, i) => `site-${i + 1}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what} (last: ${JSON.stringify(value)})`);
    await sleep(20);
  }
}

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
  let db: TestDatabase;
  let hub: TestHub;
  let auto: TestHub | null = null;
  let net: FakeNet;
  let s: Scenario;

  const job = async (id: string, on: TestHub = hub) => (await on.gqlOk<{ job: JobView }>(JOB, { id })).job;
  const netRow = async () =>
    (
      await db.pool.query<{ failed_calls: number; status: string }>(
        `select n.failed_calls, s.status from net n join scheduler s on s.net_id = n.id where n.name = 'net-1'`,
      )
    ).rows[0];

  const modelOf = async (jobId: string) =>
    (await db.pool.query<{ model_id: string }>('select model_id from job where id = $1', [jobId])).rows[0].model_id;

  beforeAll(async () => {
    db = await createTestDatabase();
    net = await startFakeNet({ backend, clients: SLOTS });
    hub = await startTestHub(db.url, {
      ...ADMISSION,
      netEndpoints: [{ name: 'net-1', endpoint: net.url }],
      flBackend: backend,
      kitSlots: SLOTS,
      logLevel: 'error',
    });
    s = await createScenario(hub, 2);
  });

  afterEach(async () => {
    await auto?.close();
    auto = null;
    net.clearFaults();
    net.setClients(SLOTS);
    net.finishAll();
    await hub.gqlOk('mutation { runPickupCycle { started { id } } }');
    await db.pool.query(`update net set failed_calls = 0, retry_at = null`);
    await db.pool.query(`update job set status = 'DELETED', end_reason = 'REMOVED' where status = 'QUEUED'`);
    await db.pool.query(
      `with ended as (update job set status = 'COMPLETED', completed_at = now() where status = 'IN_PROGRESS' returning id)
       update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null, sweep_pending = false
       where job_id in (select id from ended) or sweep_pending`,
    );
  });

  afterAll(async () => {
    await auto?.close();
    await hub?.close();
    await net?.close();
    await db?.drop();
  });

  it('a 5xx before the run exists: back in the queue (RETRY_BACKOFF, same place), the net free but held back until a probe', async () => {
    // backoffs long enough to look at the wait before it ends
    const slow = await startTestHub(db.url, { ...ADMISSION, admissionBackoffMs: 2500, admissionBackoffMaxMs: 2500 });
    const first = await s.queue(await s.newModel());
    net.fail('upload_app', { status: 503, times: 1 });
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
    const second = await s.queue(await s.newModel());
    expect((await hub.gqlOk(CYCLE)).runPickupCycle).toEqual({ started: [], failed: [] });
    expect((await job(second)).pendingReason).toBe('WAITING_FOR_NET');
    expect(net.requestsTo('upload_app')).toHaveLength(1);

    // after the backoffs, a cycle probes the net (check_server_status) and the first job starts, ahead of the second
    const probesBefore = net.requestsTo('check_server_status').length;
    const started = await until(
      'the job starts after its backoff and the probe',
      async () => (await hub.gqlOk(CYCLE)).runPickupCycle.started as Array<{ id: string }>,
      (list) => list.length > 0,
    );
    expect(started.map((j) => j.id)).toEqual([first]);
    expect(net.requestsTo('check_server_status').length).toBeGreaterThan(probesBefore);
    expect(await netRow()).toMatchObject({ failed_calls: 0 });
    const running = await job(first);
    expect(running).toMatchObject({ status: 'IN_PROGRESS', pendingReason: null, notBefore: null, net: { name: 'net-1' } });
    expect(running.startAttempts.map((a) => a.outcome)).toEqual(['NET_ERROR', 'STARTED']);
    expect((await job(second)).pendingReason).toBe('WAITING_FOR_NET');
  });

  it('MAX_START_ATTEMPTS failed starts remove the job (START_FAILED, model ERROR); waiting jobs start by themselves', async () => {
    auto = await startTestHub(db.url, { ...ADMISSION, pickupIntervalMs: 60_000 }); // only the wake-ups drive it
    const id = await s.queue(await s.newModel());
    net.fail('submit_job', { status: 500 });
    const ended = await until(
      'removed after 3 failed starts',
      () => job(id),
      (j) => j.status === 'DELETED',
    );
    expect(ended).toMatchObject({ endReason: 'START_FAILED', model: { status: 'ERROR' }, pendingReason: null });
    expect(ended.startAttempts.map((a) => a.outcome)).toEqual(['NET_ERROR', 'NET_ERROR', 'NET_ERROR']);
    const modelId = await modelOf(id);
    expect(net.requestsTo('submit_job').filter((r) => r.path.endsWith(modelId))).toHaveLength(3);
    expect((await netRow()).status).toBe('AVAILABLE'); // swept after each failed submit, freed
  });

  it('a 4xx: the net refused this job — removed at once (START_FAILED, attempt REJECTED), the net not held back', async () => {
    const refused = await s.queue(await s.newModel());
    net.fail('upload_app', { status: 422, times: 1 });
    const next = await s.newModel();
    const { runPickupCycle } = await hub.gqlOk(CYCLE);
    expect(runPickupCycle.failed).toEqual([{ id: refused, status: 'DELETED' }]);
    const ended = await job(refused);
    expect(ended).toMatchObject({ endReason: 'START_FAILED', model: { status: 'ERROR' } });
    expect(ended.startAttempts).toEqual([
      { at: expect.any(String), outcome: 'REJECTED', detail: expect.stringContaining('HTTP 422'), net: { name: 'net-1' } },
    ]);
    expect(await netRow()).toEqual({ failed_calls: 0, status: 'AVAILABLE' });
    const nextJob = await s.queue(next);
    expect((await hub.gqlOk(CYCLE)).runPickupCycle.started).toEqual([{ id: nextJob, status: 'IN_PROGRESS' }]);
  });

  it('FLIP mode (MAX_START_ATTEMPTS=1, ADMISSION_MAX_WAIT_MS=0): the first failure removes the job, as the seed does', async () => {
    const flip = await startTestHub(db.url, { ...ADMISSION, maxStartAttempts: 1, admissionMaxWaitMs: 0 });
    try {
      const id = await s.queue(await s.newModel());
      net.fail('check_client_status', { status: 503, times: 1 });
      const { runPickupCycle } = await flip.gqlOk(CYCLE);
      expect(runPickupCycle).toEqual({ started: [], failed: [{ id, status: 'DELETED' }] });
      expect(await job(id)).toMatchObject({ status: 'DELETED', endReason: 'START_FAILED', model: { status: 'ERROR' } });
      expect(await netRow()).toEqual({ failed_calls: 0, status: 'AVAILABLE' }); // free for the next job at once

      const offline = await s.queue(await s.newModel());
      net.setClients(SLOTS.slice(1), [SLOTS[0]]);
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
    auto = await startTestHub(db.url, { ...ADMISSION, pickupIntervalMs: 60_000, admissionBackoffMaxMs: 200 });
    net.setClients(SLOTS.slice(1), [SLOTS[0]]); // site-1 offline: the scenario's first trust
    const waiting = await s.queue(await s.newModel());
    if (backend === 'flower') {
      // Flower starts with DISCONNECTED clients (logged)
      const started = await until(
        'started',
        () => job(waiting, auto!),
        (j) => j.startAttempts.some((a) => a.outcome === 'STARTED'),
      );
      expect(started.status).toBe('IN_PROGRESS');
      // never waiting for its clients (a loaded machine may cost a retried call, never a CLIENTS_OFFLINE)
      expect(started.startAttempts.map((a) => a.outcome)).not.toContain('CLIENTS_OFFLINE');
      return;
    }
    const offline = await until(
      'back in the queue',
      () => job(waiting, auto!),
      (j) => j.startAttempts.length > 0 && j.status === 'QUEUED',
    );
    expect(offline).toMatchObject({ status: 'QUEUED', pendingReason: 'CLIENTS_OFFLINE', endReason: null });
    expect(offline.startAttempts[0]).toMatchObject({ outcome: 'CLIENTS_OFFLINE', detail: 'clients offline: site-1' });
    expect(offline.pendingDetail).toContain('site-1');
    expect(await netRow()).toEqual({ failed_calls: 0, status: 'AVAILABLE' });

    // another model's job, with online clients only, takes the net while the first waits
    const other = await s.newModel('other', [s.trustIds[1]]);
    const otherJob = await s.queue(other, [s.trustIds[1]]);
    await until(
      'the other job runs',
      () => job(otherJob, auto!),
      (j) => j.status === 'IN_PROGRESS',
    );
    net.finishAll();
    await auto.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { status } }', { m: other });

    net.setClients(SLOTS);
    const started = await until(
      'starts by itself once its clients are back',
      () => job(waiting, auto!),
      (j) => j.startAttempts.at(-1)?.outcome === 'STARTED',
    );
    expect(started.status).toBe('IN_PROGRESS');
    expect(started.startAttempts.at(-1)!.outcome).toBe('STARTED');
    expect(started.startAttempts.slice(0, -1).every((a) => a.outcome === 'CLIENTS_OFFLINE')).toBe(true);
    expect(started.model.status).not.toBe('ERROR');
  });

  it('ADMISSION_MAX_WAIT_MS: a job whose clients stay offline is removed (ADMISSION_TIMEOUT, model ERROR)', async () => {
    auto = await startTestHub(db.url, { ...ADMISSION, pickupIntervalMs: 100, admissionMaxWaitMs: 700 });
    net.setClients(SLOTS.slice(1), [SLOTS[0]]);
    const id = await s.queue(await s.newModel());
    if (backend === 'flower') {
      await until(
        'Flower starts it',
        () => job(id, auto!),
        (j) => j.status === 'IN_PROGRESS',
      );
      return;
    }
    const ended = await until(
      'removed',
      () => job(id, auto!),
      (j) => j.status === 'DELETED',
    );
    expect(ended).toMatchObject({ endReason: 'ADMISSION_TIMEOUT', model: { status: 'ERROR' } });
    expect(ended.startAttempts.length).toBeGreaterThan(0);
    expect(ended.startAttempts.every((a) => a.outcome === 'CLIENTS_OFFLINE')).toBe(true);
  });

  it('pendingReason: DEPLOYMENT_MODE, NO_NET (every net drained), WAITING_FOR_NET', async () => {
    const id = await s.queue(await s.newModel());
    await hub.gqlOk('mutation { setDeploymentMode(enabled: true) { enabled } }');
    expect(await job(id)).toMatchObject({ pendingReason: 'DEPLOYMENT_MODE', notBefore: null });
    await hub.gqlOk('mutation { setDeploymentMode(enabled: false) { enabled } }');
    const { nets } = await hub.gqlOk<{ nets: Array<{ id: string }> }>('{ nets { id } }');
    await hub.gqlOk('mutation($id: ID!) { drainNet(netId: $id) { drained } }', { id: nets[0].id });
    expect(await job(id)).toMatchObject({ pendingReason: 'NO_NET', pendingDetail: 'every net is drained' });
    await hub.gqlOk('mutation($id: ID!) { resumeNet(netId: $id) { drained } }', { id: nets[0].id });
    expect((await job(id)).pendingReason).toBe('WAITING_FOR_NET');
    expect((await hub.gqlOk(CYCLE)).runPickupCycle.started).toEqual([{ id, status: 'IN_PROGRESS' }]);
    expect((await job(id)).pendingReason).toBeNull();
  });

  it('endReason on every end path: REMOVED, STOPPED, UNAPPROVED_TRUST, RUN_FAILED', async () => {
    const removed = await s.queue(await s.newModel());
    await hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { status } }', { id: removed });
    expect((await job(removed)).endReason).toBe('REMOVED');

    const stoppedModel = await s.newModel();
    const stopped = await s.queue(stoppedModel);
    await hub.gqlOk('mutation($m: ID!) { stopTraining(modelId: $m) { status } }', { m: stoppedModel });
    expect((await job(stopped)).endReason).toBe('STOPPED');

    const unapprovedModel = await s.newModel();
    const unapproved = await s.queue(unapprovedModel);
    await hub.gqlOk('mutation($m: ID!, $t: [ID!]!) { updateModelApprovedTrusts(modelId: $m, trustIds: $t) { id } }', {
      m: unapprovedModel,
      t: [s.trustIds[0]],
    });
    await hub.gqlOk(CYCLE);
    expect(await job(unapproved)).toMatchObject({ status: 'DELETED', endReason: 'UNAPPROVED_TRUST' });

    const failedModel = await s.newModel();
    const failed = await s.queue(failedModel);
    await hub.gqlOk(CYCLE);
    const run = net.runByModel(failedModel)!;
    net.setRunStatus(run.job_id, 'FAILED');
    await hub.app.get((await import('../../src/modules/schedulers/running/reconcile.service.js')).ReconcileService).reconcile();
    expect(await job(failed)).toMatchObject({ status: 'DELETED', endReason: 'RUN_FAILED', model: { status: 'ERROR' } });
    expect(await netRow()).toMatchObject({ status: 'AVAILABLE' });
  });

  it('jobUpdated carries the admission fields: back in the queue with its reason, removed with its endReason', async () => {
    const live = await startTestHub(db.url, { ...ADMISSION, admissionBackoffMs: 5000, admissionBackoffMaxMs: 5000 });
    await live.app.listen(0, '127.0.0.1');
    const client = wsClient(await live.app.getUrl(), await testToken(['viewer']));
    try {
      const modelId = await s.newModel();
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
      await sleep(200); // the subscription is registered before the changes it must see
      const id = await s.queue(modelId);
      net.fail('upload_app', { status: 503, times: 1 });
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
