import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { UNDISPATCHED_SQL } from '../../src/modules/schedulers/net-state/scheduler.sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, testToken, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(5);
  }
  return Date.now() - started;
}

const DRAIN = 'mutation($id: ID!) { drainNet(netId: $id) { id name drained } }';
const RESUME = 'mutation($id: ID!) { resumeNet(netId: $id) { id name drained } }';

describe('drainNet / resumeNet (pickup on demand)', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let netA: FakeNet;
  let netB: FakeNet;
  let s: Scenario;
  let ids: Record<string, string>;

  const jobState = async (jobId: string) =>
    (
      await db.pool.query<{ status: string; net: string | null }>(
        'select j.status, n.name as net from job j left join net n on n.id = j.net_id where j.id = $1',
        [jobId],
      )
    ).rows[0];
  const schedulerOf = async (net: string) =>
    (
      await db.pool.query<{ status: string; job_id: string | null }>(
        'select s.status, s.job_id from scheduler s join net n on n.id = s.net_id where n.name = $1',
        [net],
      )
    ).rows[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    netA = await startFakeNet({ clients: SLOTS });
    netB = await startFakeNet({ clients: SLOTS });
    hub = await startTestHub(db.url, {
      kitSlots: SLOTS,
      netEndpoints: [
        { name: 'net-a', endpoint: netA.url },
        { name: 'net-b', endpoint: netB.url },
      ],
    });
    s = await createScenario(hub, 2);
    const { nets } = await hub.gqlOk<{ nets: Array<{ id: string; name: string }> }>('{ nets { id name } }');
    ids = Object.fromEntries(nets.map((n) => [n.name, n.id]));
  });

  afterEach(async () => {
    for (const id of Object.values(ids)) await hub.gqlOk(RESUME, { id });
    await db.pool.query(`update job set status = 'DELETED' where status = 'QUEUED'`); // each test completes what it started
  });

  afterAll(async () => {
    await hub?.close();
    await netA?.close();
    await netB?.close();
    await db?.drop();
  });

  const complete = (modelId: string) =>
    hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id status } }', { m: modelId });
  const cycle = async () =>
    (await hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>('mutation { runPickupCycle { started { id } } }'))
      .runPickupCycle.started;

  it('a drained net takes no job: the job starts on the other free net, or stays QUEUED when there is none', async () => {
    const { drainNet } = await hub.gqlOk(DRAIN, { id: ids['net-a'] });
    expect(drainNet).toEqual({ id: ids['net-a'], name: 'net-a', drained: true });
    const { nets } = await hub.gqlOk('{ nets { name drained scheduler { status } } }');
    expect(nets).toEqual([
      { name: 'net-a', drained: true, scheduler: { status: 'AVAILABLE' } },
      { name: 'net-b', drained: false, scheduler: { status: 'AVAILABLE' } },
    ]);

    const first = await s.newModel();
    const firstJob = await s.queue(first);
    expect(await cycle()).toHaveLength(1);
    expect(await jobState(firstJob)).toEqual({ status: 'IN_PROGRESS', net: 'net-b' });

    const second = await s.newModel();
    const secondJob = await s.queue(second);
    expect(await cycle()).toHaveLength(0);
    expect(await jobState(secondJob)).toEqual({ status: 'QUEUED', net: null });
    // nor through the seed's step form
    expect((await hub.gqlOk('mutation { claimAvailableNet { id } }')).claimAvailableNet).toBeNull();
    expect(netA.requestsTo('check_client_status')).toHaveLength(0);

    await complete(first);
  });

  it('a drained net finishes its run normally, stays AVAILABLE but drained, and takes nothing new; resume: it does', async () => {
    const running = await s.newModel();
    const runningJob = await s.queue(running);
    expect(await cycle()).toHaveLength(1);
    const { net } = await jobState(runningJob);
    const other = net === 'net-a' ? 'net-b' : 'net-a';
    await hub.gqlOk(DRAIN, { id: ids[net!] });
    await hub.gqlOk(DRAIN, { id: ids[other] }); // every net drained

    const run = (net === 'net-a' ? netA : netB).runByModel(running)!;
    expect(run.status).toBe('RUNNING'); // not aborted by the drain
    const { completeTraining } = await complete(running);
    expect(completeTraining.status).toBe('COMPLETED');
    expect(await schedulerOf(net!)).toEqual({ status: 'AVAILABLE', job_id: null });

    const next = await s.newModel();
    const nextJob = await s.queue(next);
    expect(await cycle()).toHaveLength(0);
    expect(await jobState(nextJob)).toEqual({ status: 'QUEUED', net: null });

    const { resumeNet } = await hub.gqlOk(RESUME, { id: ids[net!] });
    expect(resumeNet.drained).toBe(false);
    expect(await cycle()).toHaveLength(1);
    expect(await jobState(nextJob)).toEqual({ status: 'IN_PROGRESS', net });
    await complete(next);
  });

  it('a follower’s look does not count a drained free net as waiting', async () => {
    const undispatched = async () => (await db.pool.query<{ undispatched: boolean }>(UNDISPATCHED_SQL, [0])).rows[0].undispatched;
    await s.queue(await s.newModel());
    expect(await undispatched()).toBe(true);
    await hub.gqlOk(DRAIN, { id: ids['net-a'] });
    await hub.gqlOk(DRAIN, { id: ids['net-b'] });
    expect(await undispatched()).toBe(false);
    await hub.gqlOk(RESUME, { id: ids['net-b'] });
    expect(await undispatched()).toBe(true);
  });

  it('unknown net: NOT_FOUND; not a UUID: BAD_USER_INPUT; a viewer or researcher: FORBIDDEN — and nothing changes', async () => {
    for (const mutation of [DRAIN, RESUME]) {
      const unknown = await hub.gql(mutation, { id: '00000000-0000-4000-8000-000000000000' });
      expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const bad = await hub.gql(mutation, { id: 'net-a' });
      expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      for (const role of ['viewer', 'researcher']) {
        const refused = await hub.gql(mutation, { id: ids['net-a'] }, await testToken([role]));
        expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      }
    }
    const { rows } = await db.pool.query<{ drained: boolean }>('select drained from net order by name');
    expect(rows).toEqual([{ drained: false }, { drained: false }]);
  });
});

/**
 * Event-driven pickup on two instances: A never picks up on its own, B only
 * on events (interval one minute). A resume made on A wakes B's dispatch.
 */
describe('resumeNet wakes the event-driven pickup on every instance', () => {
  let db: TestDatabase;
  let hubA: TestHub;
  let hubB: TestHub;
  let net: FakeNet;
  let s: Scenario;
  let netId: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    net = await startFakeNet({ clients: SLOTS });
    const common = { netEndpoints: [{ name: 'net-1', endpoint: net.url }], kitSlots: SLOTS };
    hubA = await startTestHub(db.url, { ...common, pickupIntervalMs: 0 });
    hubB = await startTestHub(db.url, { ...common, pickupIntervalMs: 60_000 });
    await hubB.app.listen(0, '127.0.0.1');
    s = await createScenario(hubA, 2);
    netId = (await hubA.gqlOk('{ nets { id } }')).nets[0].id;
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await hubA?.close();
    await hubB?.close();
    await net?.close();
    await db?.drop();
  });

  it('a job queued on a drained net waits; resumeNet on A: B starts it within milliseconds, no manual cycle', async () => {
    const url = (await hubB.app.getUrl()).replace('[::1]', '127.0.0.1').replace(/^http/, 'ws') + '/graphql';
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${await testToken(['viewer'])}` },
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(client);
    const updates: Array<{ status: string; net: { drained: boolean } }> = [];
    client.subscribe<{ schedulerUpdated: (typeof updates)[number] }>(
      { query: 'subscription { schedulerUpdated { status net { name drained } } }' },
      {
        next: (message) => message.data && updates.push(message.data.schedulerUpdated),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await sleep(300); // subscribed

    await hubA.gqlOk(DRAIN, { id: netId });
    const modelId = await s.newModel();
    const jobId = await s.queue(modelId);
    await sleep(500); // B would have dispatched it by now, were the net not drained
    expect((await db.pool.query('select status from job where id = $1', [jobId])).rows[0].status).toBe('QUEUED');
    expect(net.requestsTo('check_client_status')).toHaveLength(0);

    const resumedAt = Date.now();
    await hubA.gqlOk(RESUME, { id: netId });
    const startedAfterMs = await until(
      'the job started',
      async () => {
        const { rows } = await db.pool.query<{ backend_job_id: string | null }>('select backend_job_id from job where id = $1', [
          jobId,
        ]);
        return rows[0].backend_job_id !== null;
      },
      5_000,
    );
    expect(Date.now() - resumedAt).toBeLessThan(1_000); // the interval is a minute
    expect(startedAfterMs).toBeLessThan(1_000);
    expect(net.submitCount(modelId)).toBe(1);

    // the subscription saw the drain and the resume, with the net's drained flag answerable
    await until('updates seen', () => Promise.resolve(updates.length >= 3));
    expect(updates.slice(0, 2)).toEqual([
      { status: 'AVAILABLE', net: { name: 'net-1', drained: true } },
      { status: 'AVAILABLE', net: { name: 'net-1', drained: false } },
    ]);
    expect(updates[2]).toMatchObject({ status: 'BUSY' });
  });
});
