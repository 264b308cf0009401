import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { EventsListener } from '../../src/events/events.listener.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, testToken, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing within ${timeoutMs} ms`);
    await sleep(5);
  }
}

function wsClient(url: string, token: string | null): Client {
  return createClient({
    url: url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/**
 * Two hub instances on one database: A never picks up on its own (automatic
 * pickup off), B only on events (its interval is a minute). What A does must
 * reach B through PostgreSQL's notifications.
 */
describe('change notifications across instances', () => {
  let db: TestDatabase;
  let hubA: TestHub;
  let hubB: TestHub;
  let net: FakeNet;
  let s: Scenario;
  let urlA: string;
  let urlB: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    net = await startFakeNet({ clients: SLOTS });
    const common = { netEndpoints: [{ name: 'net-1', endpoint: net.url }], kitSlots: SLOTS };
    hubA = await startTestHub(db.url, { ...common, pickupIntervalMs: 0 });
    hubB = await startTestHub(db.url, { ...common, pickupIntervalMs: 60_000 });
    await hubA.app.listen(0, '127.0.0.1');
    await hubB.app.listen(0, '127.0.0.1');
    urlA = (await hubA.app.getUrl()).replace('[::1]', '127.0.0.1');
    urlB = (await hubB.app.getUrl()).replace('[::1]', '127.0.0.1');
    s = await createScenario(hubA, 2);
    await sleep(200); // B's first (start-up) cycle is over
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await hubA?.close();
    await hubB?.close();
    await net?.close();
    await db?.drop();
  });

  it('a job queued on instance A is started by instance B within milliseconds, not on the interval', async () => {
    const modelId = await s.newModel();
    const queuedAt = Date.now();
    const jobId = await s.queue(modelId);
    const startedAfterMs = await waitFor(async () => {
      const { rows } = await db.pool.query<{ backend_job_id: string | null }>('select backend_job_id from job where id = $1', [
        jobId,
      ]);
      return rows[0].backend_job_id ? Date.now() - queuedAt : undefined;
    }, 5_000);
    expect(startedAfterMs).toBeLessThan(1_000);
    expect(net.submitCount(modelId)).toBe(1);

    // a net freed on A: B dispatches the next job at once as well
    const next = await s.queue(await s.newModel());
    await sleep(100);
    expect((await db.pool.query('select status from job where id = $1', [next])).rows[0].status).toBe('QUEUED');
    await hubA.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    await waitFor(async () => {
      const { rows } = await db.pool.query<{ status: string }>('select status from job where id = $1', [next]);
      return rows[0].status === 'IN_PROGRESS' ? true : undefined;
    }, 1_000);
    await db.pool.query(`update job set status = 'COMPLETED', completed_at = now() where status = 'IN_PROGRESS'`);
    await db.pool.query(`update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null`);
  });

  it('a graphql-ws subscriber on B sees every transition of a job made by A and B, in order', async () => {
    const modelId = await s.newModel();
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
    await sleep(200); // subscribed
    const other = await s.newModel();
    await s.queue(other); // a job of another model: filtered out
    await waitFor(() => Promise.resolve(net.runByModel(other) ? true : undefined), 2_000);
    await hubA.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: other });
    await s.queue(modelId);
    await waitFor(() => Promise.resolve(net.runByModel(modelId) ? true : undefined), 2_000);
    await sleep(50);
    await hubA.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    await done;

    expect(errors).toEqual([]);
    expect(seen.every((j) => j.model.id === modelId)).toBe(true);
    const statuses = seen.map((j) => j.status).filter((status, i, all) => status !== all[i - 1]);
    expect(statuses).toEqual(['QUEUED', 'IN_PROGRESS', 'COMPLETED']);
    expect(seen.some((j) => j.status === 'IN_PROGRESS' && j.backendJobId === net.runByModel(modelId)?.job_id)).toBe(true);
  });

  it('an instance that does not lead hears the change stream only while it has subscribers, and they miss nothing', async () => {
    const streaming = () => hubA.app.get(EventsListener).streaming;
    expect(streaming()).toBe(false); // A never leads (no automatic pickup) and has no subscriber yet
    const modelId = await s.newModel();
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
    await waitFor(() => Promise.resolve(streaming() ? true : undefined), 2_000);

    await s.queue(modelId); // on A, dispatched by B
    await waitFor(() => Promise.resolve(net.runByModel(modelId) ? true : undefined), 2_000);
    await hubA.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    await completed;
    expect(statuses.filter((status, i, all) => status !== all[i - 1])).toEqual(['QUEUED', 'IN_PROGRESS', 'COMPLETED']);

    await client.dispose();
    await waitFor(() => Promise.resolve(streaming() ? undefined : true), 2_000); // the last subscriber gone: UNLISTEN
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
