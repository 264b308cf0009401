import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
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

const JOB = `query($id: ID!) { job(id: $id) { status pendingReason pendingDetail net { name } startAttempts { outcome net { name } } } }`;
interface JobView {
  status: string;
  pendingReason: string | null;
  pendingDetail: string | null;
  net: { name: string } | null;
  startAttempts: Array<{ outcome: string; net: { name: string } | null }>;
}

/**
 * Two NVFLARE nets, the hub's view of their clients refreshed in the
 * background: the claim pairs a job only with a net where its clients are
 * online, without a call of its own, and a net no job can use now is not used up.
 */
describe('admission over several nets (nvflare, client status refreshed in the background)', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let netA: FakeNet;
  let netB: FakeNet;
  let s: Scenario;
  const job = async (id: string) => (await hub.gqlOk<{ job: JobView }>(JOB, { id })).job;
  const clientOnline = async (net: string, slot: string) =>
    (
      await db.pool.query<{ online: boolean }>(
        'select c.online from net_client c join net n on n.id = c.net_id where n.name = $1 and c.client_name = $2',
        [net, slot],
      )
    ).rows[0]?.online;

  beforeAll(async () => {
    db = await createTestDatabase();
    netA = await startFakeNet({ clients: SLOTS.slice(1), offlineClients: ['site-1'] });
    netB = await startFakeNet({ clients: SLOTS });
    hub = await startTestHub(db.url, {
      kitSlots: SLOTS,
      netEndpoints: [
        { name: 'net-a', endpoint: netA.url },
        { name: 'net-b', endpoint: netB.url },
      ],
      clientStatusIntervalMs: 150,
      admissionBackoffMs: 200,
      admissionBackoffMaxMs: 400,
    });
    s = await createScenario(hub, 2); // site-1, site-2
    await until(
      'the hub knows net-a has site-1 offline',
      () => clientOnline('net-a', 'site-1'),
      (o) => o === false,
    );
    await until(
      'the hub knows net-b has site-1 online',
      () => clientOnline('net-b', 'site-1'),
      (o) => o === true,
    );
  });

  afterAll(async () => {
    await hub?.close();
    await netA?.close();
    await netB?.close();
    await db?.drop();
  });

  it('a job goes to the net where its clients are online; the other net takes the next job that can run there', async () => {
    // net-a has been free longest (it is first in the claim's order) but site-1 is offline there
    const needsSite1 = await s.queue(await s.newModel());
    const site2Model = await s.newModel('site-2 only', [s.trustIds[1]]);
    const site2Only = await s.queue(site2Model, [s.trustIds[1]]);
    const { runPickupCycle } = await hub.gqlOk('mutation { runPickupCycle { started { id net { name } } failed { id } } }');
    expect(runPickupCycle.failed).toEqual([]);
    expect(new Set(runPickupCycle.started.map((j: { id: string; net: { name: string } }) => `${j.id}@${j.net.name}`))).toEqual(
      new Set([`${needsSite1}@net-b`, `${site2Only}@net-a`]),
    );
    expect(netA.requestsTo('upload_app').map((r) => r.path)).toEqual([`/upload_app/${site2Model}`]);
    expect((await job(needsSite1)).startAttempts).toEqual([{ outcome: 'STARTED', net: { name: 'net-b' } }]);
    netA.finishAll();
    netB.finishAll();
    await hub.gqlOk('mutation { a: removeJob(id: "' + needsSite1 + '") { id } b: removeJob(id: "' + site2Only + '") { id } }');
  });

  it('offline on every free net: the job stays QUEUED (CLIENTS_OFFLINE naming the slots and nets), no net is used up, no attempt is spent', async () => {
    netB.setClients(SLOTS.slice(1), ['site-1']);
    await until(
      'net-b: site-1 offline',
      () => clientOnline('net-b', 'site-1'),
      (o) => o === false,
    );
    const waiting = await s.queue(await s.newModel());
    const { runPickupCycle } = await hub.gqlOk('mutation { runPickupCycle { started { id } failed { id } } }');
    expect(runPickupCycle).toEqual({ started: [], failed: [] });
    const view = await job(waiting);
    expect(view).toMatchObject({ status: 'QUEUED', pendingReason: 'CLIENTS_OFFLINE', startAttempts: [] });
    expect(view.pendingDetail).toContain('site-1 on net-a, site-1 on net-b');
    expect(netA.requestsTo('upload_app').length + netB.requestsTo('upload_app').length).toBe(2); // the first test's two

    // a job that can run takes a net at once
    const otherModel = await s.newModel('site-2', [s.trustIds[1]]);
    const other = await s.queue(otherModel, [s.trustIds[1]]);
    expect((await hub.gqlOk('mutation { runPickupCycle { started { id } } }')).runPickupCycle.started).toEqual([{ id: other }]);
    await hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { status } }', { m: otherModel });

    // its clients come back on net-b: the next cycle starts it there
    netB.setClients(SLOTS);
    await until(
      'net-b: site-1 back',
      () => clientOnline('net-b', 'site-1'),
      (o) => o === true,
    );
    const started = await until(
      'started on a net where its clients are online',
      async () => (await hub.gqlOk('mutation { runPickupCycle { started { id net { name } } } }')).runPickupCycle.started,
      (list: Array<{ id: string }>) => list.length > 0,
    );
    expect(started).toEqual([{ id: waiting, net: { name: 'net-b' } }]);
  });
});
