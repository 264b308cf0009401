import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'graphql-ws';
import { EventsListener } from '../../src/events/events.listener.js';
import { UNDISPATCHED_SQL } from '../../src/modules/schedulers/net-state/scheduler.sql.js';
import { PickupService } from '../../src/modules/schedulers/picking-up/pickup.service.js';
import { testToken, type TestHub } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';
import { collect, listen, untilSubscribed, wsClient } from '../support/subscriptions.js';
import { sleep, until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
/** the event-driven instance's interval: far longer than any wait here */
const INTERVAL_MS = 600_000;

const DRAIN = 'mutation($id: ID!) { drainNet(netId: $id) { id name drained } }';
const RESUME = 'mutation($id: ID!) { resumeNet(netId: $id) { id name drained } }';

describe('drainNet / resumeNet (pickup on demand)', () => {
  const f = useNetHub({ nets: [{ name: 'net-a' }, { name: 'net-b' }], kitSlots: SLOTS });
  let ids: Record<string, string>;

  const jobState = async (jobId: string) =>
    (
      await f.db.pool.query<{ status: string; net: string | null }>(
        'select j.status, n.name as net from job j left join net n on n.id = j.net_id where j.id = $1',
        [jobId],
      )
    ).rows[0];
  const schedulerOf = async (net: string) =>
    (
      await f.db.pool.query<{ status: string; job_id: string | null }>(
        'select s.status, s.job_id from scheduler s join net n on n.id = s.net_id where n.name = $1',
        [net],
      )
    ).rows[0];

  beforeAll(async () => {
    const { nets } = await f.hub.gqlOk<{ nets: Array<{ id: string; name: string }> }>('{ nets { id name } }');
    ids = Object.fromEntries(nets.map((n) => [n.name, n.id]));
  });

  afterEach(async () => {
    for (const id of Object.values(ids)) await f.hub.gqlOk(RESUME, { id });
    await f.db.pool.query(`update job set status = 'DELETED' where status = 'QUEUED'`); // each test completes what it started
  });

  const complete = (modelId: string) =>
    f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id status } }', { m: modelId });
  const cycle = async () =>
    (await f.hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>('mutation { runPickupCycle { started { id } } }'))
      .runPickupCycle.started;

  it('a drained net takes no job: the job starts on the other free net, or stays QUEUED when there is none', async () => {
    const { drainNet } = await f.hub.gqlOk(DRAIN, { id: ids['net-a'] });
    expect(drainNet).toEqual({ id: ids['net-a'], name: 'net-a', drained: true });
    const { nets } = await f.hub.gqlOk('{ nets { name drained scheduler { status } } }');
    expect(nets).toEqual([
      { name: 'net-a', drained: true, scheduler: { status: 'AVAILABLE' } },
      { name: 'net-b', drained: false, scheduler: { status: 'AVAILABLE' } },
    ]);

    const first = await f.s.newModel();
    const firstJob = await f.s.queue(first);
    expect(await cycle()).toHaveLength(1);
    expect(await jobState(firstJob)).toEqual({ status: 'IN_PROGRESS', net: 'net-b' });

    const second = await f.s.newModel();
    const secondJob = await f.s.queue(second);
    expect(await cycle()).toHaveLength(0);
    expect(await jobState(secondJob)).toEqual({ status: 'QUEUED', net: null });
    // nor through the seed's step form
    expect((await f.hub.gqlOk('mutation { claimAvailableNet { id } }')).claimAvailableNet).toBeNull();
    expect(f.nets['net-a'].requestsTo('check_client_status')).toHaveLength(0);

    await complete(first);
  });

  it('a drained net finishes its run normally, stays AVAILABLE but drained, and takes nothing new; resume: it does', async () => {
    const running = await f.s.newModel();
    const runningJob = await f.s.queue(running);
    expect(await cycle()).toHaveLength(1);
    const { net } = await jobState(runningJob);
    const other = net === 'net-a' ? 'net-b' : 'net-a';
    await f.hub.gqlOk(DRAIN, { id: ids[net!] });
    await f.hub.gqlOk(DRAIN, { id: ids[other] }); // every net drained

    const run = f.nets[net!].runByModel(running)!;
    expect(run.status).toBe('RUNNING'); // not aborted by the drain
    const { completeTraining } = await complete(running);
    expect(completeTraining.status).toBe('COMPLETED');
    expect(await schedulerOf(net!)).toEqual({ status: 'AVAILABLE', job_id: null });

    const next = await f.s.newModel();
    const nextJob = await f.s.queue(next);
    expect(await cycle()).toHaveLength(0);
    expect(await jobState(nextJob)).toEqual({ status: 'QUEUED', net: null });

    const { resumeNet } = await f.hub.gqlOk(RESUME, { id: ids[net!] });
    expect(resumeNet.drained).toBe(false);
    expect(await cycle()).toHaveLength(1);
    expect(await jobState(nextJob)).toEqual({ status: 'IN_PROGRESS', net });
    await complete(next);
  });

  it('a follower’s look does not count a drained free net as waiting', async () => {
    const undispatched = async () =>
      (await f.db.pool.query<{ undispatched: boolean }>(UNDISPATCHED_SQL, [0])).rows[0].undispatched;
    await f.s.queue(await f.s.newModel());
    expect(await undispatched()).toBe(true);
    await f.hub.gqlOk(DRAIN, { id: ids['net-a'] });
    await f.hub.gqlOk(DRAIN, { id: ids['net-b'] });
    expect(await undispatched()).toBe(false);
    await f.hub.gqlOk(RESUME, { id: ids['net-b'] });
    expect(await undispatched()).toBe(true);
  });

  it('unknown net: NOT_FOUND; not a UUID: BAD_USER_INPUT; a viewer or researcher: FORBIDDEN — and nothing changes', async () => {
    for (const mutation of [DRAIN, RESUME]) {
      const unknown = await f.hub.gql(mutation, { id: '00000000-0000-4000-8000-000000000000' });
      expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const bad = await f.hub.gql(mutation, { id: 'net-a' });
      expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      for (const role of ['viewer', 'researcher']) {
        const refused = await f.hub.gql(mutation, { id: ids['net-a'] }, await testToken([role]));
        expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      }
    }
    const { rows } = await f.db.pool.query<{ drained: boolean }>('select drained from net order by name');
    expect(rows).toEqual([{ drained: false }, { drained: false }]);
  });
});

/**
 * Event-driven pickup on two instances: A never picks up on its own, B only
 * on events (interval one minute). A resume made on A wakes B's dispatch.
 */
describe('resumeNet wakes the event-driven pickup on every instance', () => {
  const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS, hub: { pickupIntervalMs: 0 } });
  let hubB: TestHub;
  let netId: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    hubB = await f.startHub({ pickupIntervalMs: INTERVAL_MS });
    netId = (await f.hub.gqlOk('{ nets { id } }')).nets[0].id;
    // B leads the dispatch and its first (start-up) cycle is over
    await until(() => hubB.app.get(EventsListener).leader, { what: 'B leads the dispatch' });
    await hubB.app.get(PickupService).idle();
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
  });

  it('a job queued on a drained net waits; resumeNet on A: B starts it at once, no manual cycle', async () => {
    const client = wsClient(await listen(hubB), await testToken(['viewer']));
    clients.push(client);
    const updates = collect<{ status: string; net: { drained: boolean } }>(
      client,
      'subscription { schedulerUpdated { status net { name drained } } }',
    ).seen;
    await untilSubscribed(hubB, 'schedulerUpdated');

    await f.hub.gqlOk(DRAIN, { id: netId });
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    await sleep(500); // time for a wrong dispatch: B would start it now, were the net not drained
    expect((await f.db.pool.query('select status from job where id = $1', [jobId])).rows[0].status).toBe('QUEUED');
    expect(f.net.requestsTo('check_client_status')).toHaveLength(0);

    await f.hub.gqlOk(RESUME, { id: netId });
    // B's interval is ten minutes: started within the wait, it was started on the resume's event
    await until(
      async () =>
        (await f.db.pool.query<{ backend_job_id: string | null }>('select backend_job_id from job where id = $1', [jobId]))
          .rows[0].backend_job_id !== null,
      { what: 'the job started' },
    );
    expect(f.net.submitCount(modelId)).toBe(1);

    // the subscription saw the drain and the resume, with the net's drained flag answerable
    await until(() => updates.length >= 3, { what: 'updates seen' });
    expect(updates.slice(0, 2)).toEqual([
      { status: 'AVAILABLE', net: { name: 'net-1', drained: true } },
      { status: 'AVAILABLE', net: { name: 'net-1', drained: false } },
    ]);
    expect(updates[2]).toMatchObject({ status: 'BUSY' });
  });
});
