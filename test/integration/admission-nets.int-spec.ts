import { beforeAll, describe, expect, it } from '@jest/globals';
import { useNetHub } from '../support/net-hub.js';
import { until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
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
  const f = useNetHub({
    nets: [{ name: 'net-a', clients: SLOTS.slice(1), offlineClients: ['site-1'] }, { name: 'net-b' }],
    kitSlots: SLOTS,
    hub: { clientStatusIntervalMs: 150, admissionBackoffMs: 200, admissionBackoffMaxMs: 400 },
  }); // the scenario's trusts: site-1, site-2
  const job = async (id: string) => (await f.hub.gqlOk<{ job: JobView }>(JOB, { id })).job;
  const clientOnline = async (net: string, slot: string) =>
    (
      await f.db.pool.query<{ online: boolean }>(
        'select c.online from net_client c join net n on n.id = c.net_id where n.name = $1 and c.client_name = $2',
        [net, slot],
      )
    ).rows[0]?.online;

  beforeAll(async () => {
    await until(async () => (await clientOnline('net-a', 'site-1')) === false, {
      what: 'the hub knows net-a has site-1 offline',
    });
    await until(async () => (await clientOnline('net-b', 'site-1')) === true, { what: 'the hub knows net-b has site-1 online' });
  });

  it('a job goes to the net where its clients are online; the other net takes the next job that can run there', async () => {
    // net-a has been free longest (it is first in the claim's order) but site-1 is offline there
    const needsSite1 = await f.s.queue(await f.s.newModel());
    const site2Model = await f.s.newModel('site-2 only', [f.s.trustIds[1]]);
    const site2Only = await f.s.queue(site2Model, [f.s.trustIds[1]]);
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id net { name } } failed { id } } }');
    expect(runPickupCycle.failed).toEqual([]);
    expect(new Set(runPickupCycle.started.map((j: { id: string; net: { name: string } }) => `${j.id}@${j.net.name}`))).toEqual(
      new Set([`${needsSite1}@net-b`, `${site2Only}@net-a`]),
    );
    expect(f.nets['net-a'].requestsTo('upload_app').map((r) => r.path)).toEqual([`/upload_app/${site2Model}`]);
    expect((await job(needsSite1)).startAttempts).toEqual([{ outcome: 'STARTED', net: { name: 'net-b' } }]);
    f.nets['net-a'].finishAll();
    f.nets['net-b'].finishAll();
    await f.hub.gqlOk('mutation { a: removeJob(id: "' + needsSite1 + '") { id } b: removeJob(id: "' + site2Only + '") { id } }');
  });

  it('offline on every free net: the job stays QUEUED (CLIENTS_OFFLINE naming the slots and nets), no net is used up, no attempt is spent', async () => {
    f.nets['net-b'].setClients(SLOTS.slice(1), ['site-1']);
    await until(async () => (await clientOnline('net-b', 'site-1')) === false, { what: 'net-b: site-1 offline' });
    const waiting = await f.s.queue(await f.s.newModel());
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id } failed { id } } }');
    expect(runPickupCycle).toEqual({ started: [], failed: [] });
    const view = await job(waiting);
    expect(view).toMatchObject({ status: 'QUEUED', pendingReason: 'CLIENTS_OFFLINE', startAttempts: [] });
    expect(view.pendingDetail).toContain('site-1 on net-a, site-1 on net-b');
    expect(f.nets['net-a'].requestsTo('upload_app').length + f.nets['net-b'].requestsTo('upload_app').length).toBe(2); // the first test's two

    // a job that can run takes a net at once
    const otherModel = await f.s.newModel('site-2', [f.s.trustIds[1]]);
    const other = await f.s.queue(otherModel, [f.s.trustIds[1]]);
    expect((await f.hub.gqlOk('mutation { runPickupCycle { started { id } } }')).runPickupCycle.started).toEqual([{ id: other }]);
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { status } }', { m: otherModel });

    // its clients come back on net-b: the next cycle starts it there
    f.nets['net-b'].setClients(SLOTS);
    await until(async () => (await clientOnline('net-b', 'site-1')) === true, { what: 'net-b: site-1 back' });
    const started = await until(
      async () => {
        const list: Array<{ id: string }> = (await f.hub.gqlOk('mutation { runPickupCycle { started { id net { name } } } }'))
          .runPickupCycle.started;
        return list.length > 0 && list;
      },
      { what: 'started on a net where its clients are online' },
    );
    expect(started).toEqual([{ id: waiting, net: { name: 'net-b' } }]);
  });
});
