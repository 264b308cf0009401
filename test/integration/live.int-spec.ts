import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'graphql-ws';
import { EventsListener } from '../../src/events/events.listener.js';
import { PickupService } from '../../src/modules/schedulers/picking-up/pickup.service.js';
import { testToken, type TestHub } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';
import { listen, untilSubscribed, wsClient } from '../support/subscriptions.js';
import { sleep, until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
/** B's interval: far longer than any wait here, so whatever B starts it starts on an event */
const INTERVAL_MS = 600_000;

/**
 * Two hub instances on one database: A never picks up on its own (automatic
 * pickup off), B only on events (its interval is ten minutes). What A does must
 * reach B through PostgreSQL's notifications (B's interval is ten minutes:
 * anything it starts within a wait here, it starts on an event).
 */
describe('change notifications across instances', () => {
  const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS, hub: { pickupIntervalMs: 0 } });
  let hubB: TestHub;
  let urlA: string;
  let urlB: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    hubB = await f.startHub({ pickupIntervalMs: INTERVAL_MS });
    urlA = await listen(f.hub);
    urlB = await listen(hubB);
    // B leads the dispatch and its first (start-up) cycle is over
    await until(() => hubB.app.get(EventsListener).leader, { what: 'B leads the dispatch' });
    await hubB.app.get(PickupService).idle();
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
  });

  it('a job queued on instance A is started by instance B at once, not on the interval', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    const started = async (id: string) =>
      (await f.db.pool.query<{ backend_job_id: string | null }>('select backend_job_id from job where id = $1', [id])).rows[0]
        .backend_job_id !== null;
    await until(() => started(jobId), { what: 'B started the job' });
    expect(f.net.submitCount(modelId)).toBe(1);

    // a net freed on A: B dispatches the next job at once as well
    const nextModel = await f.s.newModel();
    const next = await f.s.queue(nextModel);
    await sleep(100); // time for a wrong dispatch: the only net is busy
    expect((await f.db.pool.query('select status from job where id = $1', [next])).rows[0].status).toBe('QUEUED');
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    await until(() => started(next), { what: 'B started the next job' });
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: nextModel });
  });

  it('a graphql-ws subscriber on B sees every transition of a job made by A and B, in order', async () => {
    const modelId = await f.s.newModel();
    const client = wsClient(urlB, await testToken(['viewer']));
    clients.push(client);
    const seen: Array<{ status: string; backendJobId: string | null; model: { id: string } }> = [];
    const errors: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      client.subscribe<{ jobUpdated: (typeof seen)[number] }>(
        {
          query: 'subscription($m: ID) { jobUpdated(modelId: $m) { id status backendJobId model { id } } }',
          variables: { m: modelId },
        },
        {
          next: (message) => {
            if (message.data) seen.push(message.data.jobUpdated);
            if (message.errors) errors.push(message.errors);
            if (message.data?.jobUpdated.status === 'COMPLETED') resolve();
          },
          error: (error) => errors.push(error),
          complete: () => resolve(),
        },
      );
    });
    await untilSubscribed(hubB, 'jobUpdated');
    const other = await f.s.newModel();
    await f.s.queue(other); // a job of another model: filtered out
    await until(() => f.net.runByModel(other), { what: 'the run on the net' });
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: other });
    await f.s.queue(modelId);
    await until(
      async () =>
        (await f.db.pool.query('select 1 from job where model_id = $1 and backend_job_id is not null', [modelId])).rowCount,
      { what: 'the start confirmed' },
    );
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    await done;

    expect(errors).toEqual([]);
    expect(seen.every((j) => j.model.id === modelId)).toBe(true);
    const statuses = seen.map((j) => j.status).filter((status, i, all) => status !== all[i - 1]);
    expect(statuses).toEqual(['QUEUED', 'IN_PROGRESS', 'COMPLETED']);
    expect(seen.some((j) => j.status === 'IN_PROGRESS' && j.backendJobId === f.net.runByModel(modelId)?.job_id)).toBe(true);
  });

  it('an instance that does not lead hears the change stream only while it has subscribers, and they miss nothing', async () => {
    const streaming = () => f.hub.app.get(EventsListener).streaming;
    expect(streaming()).toBe(false); // A never leads (no automatic pickup) and has no subscriber yet
    const modelId = await f.s.newModel();
    const client = wsClient(urlA, await testToken(['viewer']));
    clients.push(client);
    const statuses: string[] = [];
    const completed = new Promise<void>((resolve, reject) => {
      client.subscribe<{ jobUpdated: { status: string } }>(
        { query: 'subscription($m: ID) { jobUpdated(modelId: $m) { status } }', variables: { m: modelId } },
        {
          next: (message) => {
            if (message.data) statuses.push(message.data.jobUpdated.status);
            if (message.data?.jobUpdated.status === 'COMPLETED') resolve();
          },
          error: reject,
          complete: () => resolve(),
        },
      );
    });
    // the subscription is registered before the stream starts: from "streaming" on, it misses nothing
    await until(streaming, { what: 'A hears the change stream' });

    await f.s.queue(modelId); // on A, dispatched by B
    await until(() => f.net.runByModel(modelId), { what: 'the run on the net' });
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    await completed;
    expect(statuses.filter((status, i, all) => status !== all[i - 1])).toEqual(['QUEUED', 'IN_PROGRESS', 'COMPLETED']);

    await client.dispose();
    await until(() => !streaming(), { what: 'A stops listening' }); // the last subscriber gone: UNLISTEN
  });

  it('subscriptions are authorised like queries', async () => {
    const anonymous = wsClient(urlB, null);
    clients.push(anonymous);
    const refused = await new Promise<unknown>((resolve) => {
      anonymous.subscribe(
        { query: 'subscription { schedulerUpdated { id } }' },
        { next: () => undefined, error: resolve, complete: () => resolve(null) },
      );
    });
    expect(refused).toBeTruthy();

    const netRole = wsClient(urlB, await testToken(['net']));
    clients.push(netRole);
    const forbidden = await new Promise<unknown>((resolve) => {
      netRole.subscribe(
        { query: 'subscription { schedulerUpdated { id } }' },
        { next: (message) => resolve(message.errors), error: resolve, complete: () => resolve(null) },
      );
    });
    expect(JSON.stringify(forbidden)).toContain('FORBIDDEN');
  });
});
