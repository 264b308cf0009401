import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import { EventsListener } from '../../src/events/events.listener.js';
import { HUB_INSTANCE_NAME } from '../../src/database/database.tokens.js';
import { ClaimService } from '../../src/modules/schedulers/picking-up/claim.service.js';
import { PickupService } from '../../src/modules/schedulers/picking-up/pickup.service.js';
import type { TestHub } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';
import { sleep, until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2'];
const FOLLOWER_DELAY_MS = 1_000;
const QUEUE = 'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }';
const COMPLETE = 'mutation($m: ID!) { completeTraining(modelId: $m) { id } }';
/** event-driven only: the interval never fires during a test, so a start within a wait is an event's or a follow-up's */
const INTERVAL_MS = 600_000;

/**
 * Who dispatches a change when several instances run on one database: the
 * leader (the holder of the dispatch lock), at once; the others look every
 * PICKUP_FOLLOWER_DELAY_MS, take the lead if it is free, and claim only what
 * has waited longer than that. Real hubs, real fake nets, real PostgreSQL; each instance's
 * claim transactions are counted (and run unchanged), and each start is told apart by the instance that
 * claimed it (`job.claimed_by`), not by how long it took: the machine may be loaded.
 */
describe('several hub instances: one leads the dispatch, the others follow up', () => {
  /** the passive instance, on two nets */
  const f = useNetHub({
    nets: [{ name: 'net-1' }, { name: 'net-2' }],
    kitSlots: SLOTS,
    hub: { pickupFollowerDelayMs: FOLLOWER_DELAY_MS, pickupIntervalMs: 0 },
  });
  let hubs: TestHub[];
  /** never picks up on its own: it never leads, and what it changes is dispatched by another instance */
  let passive: TestHub;
  let claims: Array<jest.SpiedFunction<ClaimService['claimBatch']>>;

  const isLeader = (hub: TestHub) => hub.app.get(EventsListener).leader;
  const leaderIndex = () => hubs.findIndex(isLeader);
  const queueOn = async (hub: TestHub, modelId: string) =>
    (await hub.gqlOk<{ queueTraining: { id: string } }>(QUEUE, { m: modelId, t: f.s.trustIds })).queueTraining.id;

  const nameOf = (hub: TestHub) => hub.app.get<string>(HUB_INSTANCE_NAME);

  async function jobRow(
    jobId: string,
  ): Promise<{ status: string; backend_job_id: string | null; net_id: string | null; claimed_by: string | null }> {
    const { rows } = await f.db.pool.query('select status, backend_job_id, net_id, claimed_by from job where id = $1', [jobId]);
    return rows[0] as { status: string; backend_job_id: string | null; net_id: string | null; claimed_by: string | null };
  }

  /** Waits until the job has a backend job id (started on a net); answers the instance that claimed it. */
  async function started(jobId: string): Promise<string | null> {
    const row = await until(
      async () => {
        const job = await jobRow(jobId);
        return job.backend_job_id ? job : null;
      },
      { what: `job ${jobId} started` },
    );
    return row.claimed_by;
  }

  beforeAll(async () => {
    hubs = [await f.startHub({ pickupIntervalMs: INTERVAL_MS }), await f.startHub({ pickupIntervalMs: INTERVAL_MS })];
    passive = f.hub;
    // the start-up cycles are over and one of them leads
    await until(() => hubs.some(isLeader), { what: 'an instance leads' });
    for (const hub of hubs) await hub.app.get(PickupService).idle();
    claims = hubs.map((hub) => jest.spyOn(hub.app.get(ClaimService), 'claimBatch'));
  });

  beforeEach(async () => {
    // every net free, nothing queued or running
    await f.db.pool.query(`update job set status = 'COMPLETED', completed_at = now() where status in ('QUEUED', 'IN_PROGRESS')`);
    await f.db.pool.query(`update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null`);
    for (const net of Object.values(f.nets)) net.forgetRuns();
    await sleep(FOLLOWER_DELAY_MS + 100); // the follow-ups of the previous test are over before the counting starts
    for (const spy of claims) spy.mockClear();
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    for (const hub of hubs ?? []) await hub.close().catch(() => undefined);
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
    const jobId = await queueOn(hubs[follower], await f.s.newModel());
    expect(await started(jobId)).toBe(nameOf(hubs[leader])); // the leader, on the event
    await sleep(FOLLOWER_DELAY_MS + 200); // the follower's follow-up has looked, and found the job taken
    expect(claims[leader]).toHaveBeenCalled();
    expect(claims[follower]).not.toHaveBeenCalled();
  });

  it('a net freed through a follower goes to the next queued job at once, claimed by the leader alone', async () => {
    const leader = leaderIndex();
    const follower = 1 - leader;
    const models = [await f.s.newModel(), await f.s.newModel(), await f.s.newModel()];
    const jobs = [await queueOn(passive, models[0]), await queueOn(passive, models[1])];
    for (const job of jobs) await started(job);
    const waiting = await queueOn(passive, models[2]);
    await sleep(FOLLOWER_DELAY_MS + 100); // time for a wrong claim: a follow-up has looked
    expect((await jobRow(waiting)).status).toBe('QUEUED'); // both nets busy
    const freedNet = (await jobRow(jobs[0])).net_id;
    for (const spy of claims) spy.mockClear();

    await hubs[follower].gqlOk(COMPLETE, { m: models[0] });
    expect(await started(waiting)).toBe(nameOf(hubs[leader])); // the leader, on the event
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
      const model = await f.s.newModel();
      const queuedAt = Date.now();
      const jobId = await queueOn(passive, model);
      expect(await started(jobId)).toBe(nameOf(hubs[follower]));
      expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(FOLLOWER_DELAY_MS - 50); // not before it had waited the delay
      // at the first look that found it waiting: the follower's first claim took it
      expect(claims[follower]).toHaveBeenCalled();
      expect(await claims[follower].mock.results[0].value).toEqual([
        expect.objectContaining({ job: expect.objectContaining({ id: jobId }) }),
      ]);
      expect(claims[leader]).toHaveBeenCalled(); // it was woken, and claimed nothing
      expect(Object.values(f.nets).reduce((sum, net) => sum + net.submitCount(model), 0)).toBe(1);
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

  it('when the leader is gone, a follower takes the lead on its looks (not on the interval); a job queued meanwhile starts then, the next at once', async () => {
    const leader = leaderIndex();
    const follower = 1 - leader;
    const first = await f.s.newModel();
    await hubs[leader].close(); // resigns the lead at shutdown
    const jobId = await queueOn(passive, first);
    await until(() => isLeader(hubs[follower]), { what: 'the follower leads' });
    expect(await started(jobId)).toBe(nameOf(hubs[follower]));
    expect(Object.values(f.nets).reduce((sum, net) => sum + net.submitCount(first), 0)).toBe(1);
    expect(hubs[follower].app.get(EventsListener).streaming).toBe(true);

    const next = await queueOn(passive, await f.s.newModel());
    expect(await started(next)).toBe(nameOf(hubs[follower])); // the new leader, on the event
  });
});
