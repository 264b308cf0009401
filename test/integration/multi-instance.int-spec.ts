import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { EventsListener } from '../../src/events/events.listener.js';
import { ClaimService } from '../../src/modules/schedulers/picking-up/claim.service.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2'];
const FOLLOWER_DELAY_MS = 1_000;
const QUEUE = 'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }';
const COMPLETE = 'mutation($m: ID!) { completeTraining(modelId: $m) { id } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Who dispatches a change when several instances run on one database: the
 * leader (the holder of the dispatch lock), at once; the others look every
 * PICKUP_FOLLOWER_DELAY_MS, take the lead if it is free, and claim only what
 * has waited longer than that. Real hubs, real fake nets, real PostgreSQL; each instance's
 * claim transactions are counted (and run unchanged).
 */
describe('several hub instances: one leads the dispatch, the others follow up', () => {
  let db: TestDatabase;
  let nets: FakeNet[];
  let hubs: TestHub[];
  /** never picks up on its own: it never leads, and what it changes is dispatched by another instance */
  let passive: TestHub;
  let s: Scenario;
  let claims: Array<jest.SpiedFunction<ClaimService['claimBatch']>>;

  const isLeader = (hub: TestHub) => hub.app.get(EventsListener).leader;
  const leaderIndex = () => hubs.findIndex(isLeader);
  const queueOn = async (hub: TestHub, modelId: string) =>
    (await hub.gqlOk<{ queueTraining: { id: string } }>(QUEUE, { m: modelId, t: s.trustIds })).queueTraining.id;

  async function jobRow(jobId: string): Promise<{ status: string; backend_job_id: string | null; net_id: string | null }> {
    const { rows } = await db.pool.query('select status, backend_job_id, net_id from job where id = $1', [jobId]);
    return rows[0] as { status: string; backend_job_id: string | null; net_id: string | null };
  }

  /** ms from now until the job has a backend job id (started on a net) */
  async function startedWithin(jobId: string, timeoutMs: number): Promise<number> {
    const began = Date.now();
    while (Date.now() - began < timeoutMs) {
      if ((await jobRow(jobId)).backend_job_id) return Date.now() - began;
      await sleep(5);
    }
    throw new Error(`job ${jobId} not started within ${timeoutMs} ms`);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    nets = [await startFakeNet({ clients: SLOTS }), await startFakeNet({ clients: SLOTS })];
    const common = {
      netEndpoints: nets.map((net, i) => ({ name: `net-${i + 1}`, endpoint: net.url })),
      kitSlots: SLOTS,
      pickupFollowerDelayMs: FOLLOWER_DELAY_MS,
    };
    // event-driven only: the interval (a minute) never fires during a test
    hubs = [
      await startTestHub(db.url, { ...common, pickupIntervalMs: 60_000 }),
      await startTestHub(db.url, { ...common, pickupIntervalMs: 60_000 }),
    ];
    passive = await startTestHub(db.url, { ...common, pickupIntervalMs: 0 });
    s = await createScenario(passive, 2);
    await sleep(300); // the start-up cycles are over
    claims = hubs.map((hub) => jest.spyOn(hub.app.get(ClaimService), 'claimBatch'));
  });

  beforeEach(async () => {
    // every net free, nothing queued or running
    await db.pool.query(`update job set status = 'COMPLETED', completed_at = now() where status in ('QUEUED', 'IN_PROGRESS')`);
    await db.pool.query(`update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null`);
    for (const net of nets) net.forgetRuns();
    await sleep(FOLLOWER_DELAY_MS + 100);
    for (const spy of claims) spy.mockClear();
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    for (const hub of hubs ?? []) await hub.close().catch(() => undefined);
    await passive?.close();
    for (const net of nets ?? []) await net.close();
    await db?.drop();
  });

  it('exactly one instance with automatic pickup leads, and says so in /health and /metrics; an instance without it never does', async () => {
    expect(hubs.filter(isLeader)).toHaveLength(1);
    expect(isLeader(passive)).toBe(false);
    for (const hub of [...hubs, passive]) {
      const health = await request(hub.app.getHttpServer()).get('/health').expect(200);
      expect(health.body.info.dispatch.leader).toBe(isLeader(hub));
      const metrics = (await request(hub.app.getHttpServer()).get('/metrics').expect(200)).text;
      expect(metrics).toMatch(new RegExp(`^fl_dispatch_leader ${isLeader(hub) ? 1 : 0}$`, 'm'));
    }
  });

  it('a job queued through a follower is claimed by the leader at once; the follower runs no claim transaction', async () => {
    const leader = leaderIndex();
    const follower = 1 - leader;
    const jobId = await queueOn(hubs[follower], await s.newModel());
    expect(await startedWithin(jobId, 2_000)).toBeLessThan(FOLLOWER_DELAY_MS);
    await sleep(FOLLOWER_DELAY_MS + 200); // the follower's follow-up has looked, and found the job taken
    expect(claims[leader]).toHaveBeenCalled();
    expect(claims[follower]).not.toHaveBeenCalled();
  });

  it('a net freed through a follower goes to the next queued job at once, claimed by the leader alone', async () => {
    const leader = leaderIndex();
    const follower = 1 - leader;
    const models = [await s.newModel(), await s.newModel(), await s.newModel()];
    const jobs = [await queueOn(passive, models[0]), await queueOn(passive, models[1])];
    for (const job of jobs) await startedWithin(job, 2_000);
    const waiting = await queueOn(passive, models[2]);
    await sleep(FOLLOWER_DELAY_MS + 100);
    expect((await jobRow(waiting)).status).toBe('QUEUED'); // both nets busy
    const freedNet = (await jobRow(jobs[0])).net_id;
    for (const spy of claims) spy.mockClear();

    await hubs[follower].gqlOk(COMPLETE, { m: models[0] });
    expect(await startedWithin(waiting, 2_000)).toBeLessThan(FOLLOWER_DELAY_MS);
    expect((await jobRow(waiting)).net_id).toBe(freedNet);
    await sleep(FOLLOWER_DELAY_MS + 200);
    expect(claims[leader]).toHaveBeenCalled();
    expect(claims[follower]).not.toHaveBeenCalled();
  });

  it('a leader that holds the lead but dispatches nothing: a follower claims the waiting job once it has waited the delay', async () => {
    const leader = leaderIndex();
    const follower = 1 - leader;
    const service = hubs[leader].app.get(ClaimService);
    const claimBatch = ClaimService.prototype.claimBatch.bind(service);
    let stuck = true;
    claims[leader].mockImplementation(() => (stuck ? Promise.resolve([]) : claimBatch()));
    try {
      const model = await s.newModel();
      const jobId = await queueOn(passive, model);
      const startedAfter = await startedWithin(jobId, 4_000);
      expect(startedAfter).toBeGreaterThanOrEqual(FOLLOWER_DELAY_MS - 50); // not before it had waited the delay
      expect(startedAfter).toBeLessThan(2 * FOLLOWER_DELAY_MS + 500); // at the first look after that
      expect(claims[follower]).toHaveBeenCalled();
      expect(claims[leader]).toHaveBeenCalled(); // it was woken, and claimed nothing
      expect(nets.reduce((sum, net) => sum + net.submitCount(model), 0)).toBe(1);
      expect(isLeader(hubs[leader])).toBe(true); // the lock stays with its live session
      expect(isLeader(hubs[follower])).toBe(false);
    } finally {
      stuck = false;
    }
  });

  it('followers do not hear the change stream (one listener per change, not one per instance); the leader does', async () => {
    const streaming = (hub: TestHub) => hub.app.get(EventsListener).streaming;
    expect(streaming(hubs[leaderIndex()])).toBe(true);
    expect(streaming(hubs[1 - leaderIndex()])).toBe(false);
    expect(streaming(passive)).toBe(false);
    const health = await request(passive.app.getHttpServer()).get('/health').expect(200);
    expect(health.body.info.dispatch).toMatchObject({ leader: false, notifications: true, streaming: false });
  });

  it('when the leader is gone, a follower takes the lead within one look; a job queued meanwhile starts then, the next at once', async () => {
    const leader = leaderIndex();
    const follower = 1 - leader;
    const first = await s.newModel();
    await hubs[leader].close(); // resigns the lead at shutdown
    const goneAt = Date.now();
    const jobId = await queueOn(passive, first);
    while (!isLeader(hubs[follower])) {
      expect(Date.now() - goneAt).toBeLessThan(FOLLOWER_DELAY_MS + 500);
      await sleep(5);
    }
    const ledAfter = Date.now() - goneAt;
    expect(ledAfter).toBeLessThan(FOLLOWER_DELAY_MS + 500);
    expect(await startedWithin(jobId, 2_000)).toBeLessThan(FOLLOWER_DELAY_MS + 500 - ledAfter + 200);
    expect(nets.reduce((sum, net) => sum + net.submitCount(first), 0)).toBe(1);
    expect(hubs[follower].app.get(EventsListener).streaming).toBe(true);

    const next = await queueOn(passive, await s.newModel());
    expect(await startedWithin(next, 2_000)).toBeLessThan(FOLLOWER_DELAY_MS);
  });
});
