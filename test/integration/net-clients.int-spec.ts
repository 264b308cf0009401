import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JOB_CLIENTS_ONLINE_SQL } from '../../src/modules/nets/net-client.sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { useNetHub } from '../support/net-hub.js';
import { sleep, until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2', 'site-3'];
const INTERVAL_MS = 400;
interface ClientRow {
  net: string;
  client: string;
  online: boolean;
  last_seen: Date | null;
  checked_at: Date;
}

/**
 * Two hub instances with the background refresh on, one seeding a Flower
 * net, the other two NVFLARE nets (one of them to be unreachable): every net
 * is polled, by one instance per interval, and what it answers is recorded.
 */
describe('the hub knows each net’s clients (background refresh)', () => {
  let db: TestDatabase;
  let flowerHub: TestHub;
  let nvflareHub: TestHub;
  let netA: FakeNet;
  let netB: FakeNet;
  let netC: FakeNet;
  let s: Scenario;

  const clients = async (net: string) =>
    (
      await db.pool.query<ClientRow>(
        `select n.name as net, c.client_name as client, c.online, c.last_seen, c.checked_at
         from net_client c join net n on n.id = c.net_id where n.name = $1 order by c.client_name`,
        [net],
      )
    ).rows;
  const client = async (net: string, name: string) => (await clients(net)).find((c) => c.client === name);

  beforeAll(async () => {
    db = await createTestDatabase();
    netA = await startFakeNet({ clients: ['site-1', 'site-2'], offlineClients: ['site-3'] });
    netB = await startFakeNet({ backend: 'flower', clients: ['site-1'], offlineClients: ['site-2'] });
    netC = await startFakeNet({ clients: ['site-1', 'site-2'] });
    const common = { kitSlots: SLOTS, clientStatusIntervalMs: INTERVAL_MS };
    flowerHub = await startTestHub(db.url, {
      ...common,
      flBackend: 'flower',
      netEndpoints: [{ name: 'net-b', endpoint: netB.url }],
    });
    nvflareHub = await startTestHub(db.url, {
      ...common,
      netEndpoints: [
        { name: 'net-a', endpoint: netA.url },
        { name: 'net-c', endpoint: netC.url },
      ],
    });
    s = await createScenario(nvflareHub, 2); // trusts on site-1, site-2
  });

  afterAll(async () => {
    await flowerHub?.close();
    await nvflareHub?.close();
    for (const net of [netA, netB, netC]) await net?.close();
    await db?.drop();
  });

  it('records online and offline per net, by each net’s backend, with the net’s connect time as lastSeen', async () => {
    await until(
      async () =>
        (await clients('net-a')).length === 3 && (await clients('net-b')).length === 2 && (await clients('net-c')).length === 2,
      { what: 'all three nets reported' },
    );
    expect((await clients('net-a')).map(({ client, online }) => [client, online])).toEqual([
      ['site-1', true],
      ['site-2', true],
      ['site-3', false],
    ]);
    // Flower: DISCONNECTED is offline too
    expect((await clients('net-b')).map(({ client, online }) => [client, online])).toEqual([
      ['site-1', true],
      ['site-2', false],
    ]);
    // the fake net reports an offline client's last connect as the time its clients last changed
    const offline = await client('net-a', 'site-3');
    expect(offline?.last_seen?.getTime()).toBeLessThan(Date.now() - 100);
    const online = await client('net-a', 'site-1');
    expect(online?.last_seen?.getTime()).toBeGreaterThan(Date.now() - 5_000);
  });

  it('with two instances, each net is polled about once per interval, not once per instance', async () => {
    const before = netA.requestsTo('check_client_status').length;
    const windowMs = 4_000;
    await sleep(windowMs);
    const polls = netA.requestsTo('check_client_status').length - before;
    // a net is due again after 0.8 of the interval (database clock): at most windowMs / 320 + 1 polls; 20 with both instances
    expect(polls).toBeLessThanOrEqual(Math.floor(windowMs / (INTERVAL_MS * 0.8)) + 1);
    expect(polls).toBeGreaterThanOrEqual(3);
  });

  it('a client going offline and coming back is seen within an interval; one no longer reported goes offline', async () => {
    const changedAt = Date.now();
    const polled = () => netA.requestsTo('check_client_status').length;
    let pollsBefore = polled();
    netA.setClients(['site-2'], ['site-1']); // site-3 no longer reported
    await until(async () => (await client('net-a', 'site-1'))?.online === false, { what: 'site-1 offline on net-a' });
    // seen by the next poll of the net (two: one may have been under way), whatever the machine's load
    expect(polled() - pollsBefore).toBeLessThanOrEqual(2);
    const gone = await client('net-a', 'site-3');
    expect(gone).toMatchObject({ online: false });
    expect(gone?.checked_at.getTime()).toBeGreaterThanOrEqual(changedAt - 1_000);

    pollsBefore = polled();
    netA.setClients(['site-1', 'site-2']);
    await until(async () => (await client('net-a', 'site-1'))?.online === true, { what: 'site-1 online again' });
    expect(polled() - pollsBefore).toBeLessThanOrEqual(2);
  });

  it('an unreachable net: its clients go offline with their lastSeen kept, and the other nets are still refreshed', async () => {
    await until(async () => (await client('net-c', 'site-1'))?.online === true, { what: 'net-c online' });
    await netC.stop();
    const stoppedAt = Date.now();
    await until(async () => (await clients('net-c')).every((c) => !c.online), { what: 'net-c offline' });
    const kept = await client('net-c', 'site-1');
    expect(kept?.last_seen?.getTime()).toBeLessThanOrEqual(stoppedAt);
    expect(kept?.last_seen?.getTime()).toBeGreaterThan(stoppedAt - 10_000);
    // a hung net is bounded by the call timeout, and the others go on being checked meanwhile
    await netC.restart();
    netC.fail('check_client_status', { delayMs: 5_000 });
    const checked = (await client('net-a', 'site-1'))!.checked_at.getTime();
    await until(async () => (await client('net-a', 'site-1'))!.checked_at.getTime() > checked, { what: 'net-a checked again' });
    await until(
      async () => {
        const c = await client('net-c', 'site-1');
        return c?.online === false && c.checked_at.getTime() > stoppedAt + 300;
      },
      { what: 'net-c still offline, checked again' },
    );
    netC.clearFaults();
    await until(async () => (await client('net-c', 'site-1'))?.online === true, { what: 'net-c back' });
  });

  it('JOB_CLIENTS_ONLINE: all of a job’s slots online on the net (NVFLARE), DISCONNECTED not blocking (Flower)', async () => {
    const jobId = await s.queue(await s.newModel()); // site-1, site-2; automatic pickup is off: it stays queued
    const onlineOn = async (net: string) =>
      (
        await db.pool.query<{ ok: boolean }>(
          `select ${JOB_CLIENTS_ONLINE_SQL} as ok from job j, net n where j.id = $1 and n.name = $2`,
          [jobId, net],
        )
      ).rows[0].ok;
    netA.setClients(['site-1', 'site-2']);
    await until(async () => (await client('net-a', 'site-2'))?.online === true, { what: 'net-a: both online' });
    expect(await onlineOn('net-a')).toBe(true);
    expect(await onlineOn('net-b')).toBe(true); // Flower, site-2 DISCONNECTED

    netA.setClients(['site-1'], ['site-2']);
    await until(async () => (await client('net-a', 'site-2'))?.online === false, { what: 'net-a: site-2 offline' });
    expect(await onlineOn('net-a')).toBe(false);

    netA.setClients(['site-1', 'site-2']);
    await until(async () => (await client('net-a', 'site-2'))?.online === true, { what: 'net-a: site-2 back' });
    expect(await onlineOn('net-a')).toBe(true);

    await netC.stop(); // unknown is not online
    await until(async () => (await clients('net-c')).every((c) => !c.online), { what: 'net-c offline' });
    expect(await onlineOn('net-c')).toBe(false);
    await netC.restart();
  });
});

/** Refresh off: the start's own check_client_status answer is what the hub learns from; Trust.clients shows it. */
describe('the start path records its answer; Trust.clients', () => {
  const f = useNetHub({
    nets: [
      { name: 'net-a', clients: ['site-1', 'site-2'], offlineClients: ['site-3'] },
      { name: 'net-b', clients: ['site-1', 'site-2'] },
    ],
    kitSlots: SLOTS,
    trusts: 3, // site-1, site-2, site-3
  });

  beforeAll(async () => {
    const { netByName } = await f.hub.gqlOk('{ netByName(name: "net-b") { id } }');
    await f.hub.gqlOk('mutation($id: ID!) { drainNet(netId: $id) { id } }', { id: netByName.id }); // every job starts on net-a
  });

  it('a start records the net’s answer, and Trust.clients answers per registered net through GraphQL', async () => {
    const modelId = await f.s.newModel(undefined, f.s.trustIds.slice(0, 2));
    await f.s.queue(modelId, f.s.trustIds.slice(0, 2));
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id net { name } } failed { id } } }');
    expect(runPickupCycle.started).toHaveLength(1);
    expect(runPickupCycle.started[0].net.name).toBe('net-a');
    await until(async () => (await f.db.pool.query('select 1 from net_client')).rowCount === 3, {
      what: 'the start’s answer recorded',
    });
    expect(f.nets['net-a'].requestsTo('check_client_status')).toHaveLength(1); // no call of its own
    expect(f.nets['net-b'].requestsTo('check_client_status')).toHaveLength(0); // never asked

    const { trusts } = await f.hub.gqlOk<{
      trusts: Array<{
        slotName: string;
        clients: Array<{ net: { name: string; drained: boolean }; online: boolean; lastSeen: string | null }>;
      }>;
    }>('{ trusts { slotName clients { net { name drained } online lastSeen } } }');
    const bySlot = new Map(trusts.map((t) => [t.slotName, t.clients]));
    expect(bySlot.get('site-1')).toEqual([
      { net: { name: 'net-a', drained: false }, online: true, lastSeen: expect.any(String) },
      { net: { name: 'net-b', drained: true }, online: false, lastSeen: null },
    ]);
    expect(bySlot.get('site-3')).toEqual([
      { net: { name: 'net-a', drained: false }, online: false, lastSeen: expect.any(String) },
      { net: { name: 'net-b', drained: true }, online: false, lastSeen: null },
    ]);
    const seen = Date.parse(bySlot.get('site-1')![0].lastSeen!);
    expect(Math.abs(seen - Date.now())).toBeLessThan(10_000);
  });
});
