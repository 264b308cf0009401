import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ClaimService } from '../../src/modules/schedulers/claim.service.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2'];
const FOLLOWER_DELAY_MS = 300;
const QUEUE = 'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }';
const COMPLETE = 'mutation($m: ID!) { completeTraining(modelId: $m) { id } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Who dispatches a change when several instances run on one database: the
 * instance that made it, at once; the others only if it is still undispatched
 * PICKUP_FOLLOWER_DELAY_MS later. Real hubs, real fake nets, real PostgreSQL;
 * each instance's claim transactions are counted (and run unchanged).
 */
describe('several hub instances: the instance that made a change dispatches it', () => {
  let db: TestDatabase;
  let nets: FakeNet[];
  let hubA: TestHub;
  let hubB: TestHub;
  /** never picks up on its own: what it changes must be dispatched by another instance */
  let hubC: TestHub;
  let s: Scenario;
  let claimsA: jest.SpiedFunction<ClaimService['claimBatch']>;
  let claimsB: jest.SpiedFunction<ClaimService['claimBatch']>;

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
    hubA = await startTestHub(db.url, { ...common, pickupIntervalMs: 60_000 });
    hubB = await startTestHub(db.url, { ...common, pickupIntervalMs: 60_000 });
    hubC = await startTestHub(db.url, { ...common, pickupIntervalMs: 0 });
    s = await createScenario(hubC, 2);
    await sleep(300); // the start-up cycles are over
    claimsA = jest.spyOn(hubA.app.get(ClaimService), 'claimBatch');
    claimsB = jest.spyOn(hubB.app.get(ClaimService), 'claimBatch');
  });

  beforeEach(async () => {
    // every net free, nothing queued or running
    await db.pool.query(`update job set status = 'COMPLETED', completed_at = now() where status in ('QUEUED', 'IN_PROGRESS')`);
    await db.pool.query(`update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null`);
    for (const net of nets) net.forgetRuns();
    await sleep(FOLLOWER_DELAY_MS + 100);
    claimsA.mockClear();
    claimsB.mockClear();
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await hubA?.close();
    await hubB?.close();
    await hubC?.close();
    for (const net of nets ?? []) await net.close();
    await db?.drop();
  });

  it('a job queued through A is claimed by A at once; B runs no claim transaction', async () => {
    const jobId = await queueOn(hubA, await s.newModel());
    expect(await startedWithin(jobId, 2_000)).toBeLessThan(FOLLOWER_DELAY_MS);
    await sleep(FOLLOWER_DELAY_MS + 200); // B's follow-up has looked, and found the job taken
    expect(claimsA).toHaveBeenCalled();
    expect(claimsB).not.toHaveBeenCalled();
  });

  it('a net freed through B is claimed by B, for the next queued job, without A claiming', async () => {
    const models = [await s.newModel(), await s.newModel(), await s.newModel()];
    const jobs = [await queueOn(hubA, models[0]), await queueOn(hubA, models[1])];
    for (const job of jobs) await startedWithin(job, 2_000);
    const waiting = await queueOn(hubA, models[2]);
    await sleep(FOLLOWER_DELAY_MS + 100);
    expect((await jobRow(waiting)).status).toBe('QUEUED'); // both nets busy
    const freedNet = (await jobRow(jobs[0])).net_id;
    claimsA.mockClear();
    claimsB.mockClear();

    await hubB.gqlOk(COMPLETE, { m: models[0] });
    expect(await startedWithin(waiting, 2_000)).toBeLessThan(FOLLOWER_DELAY_MS);
    expect((await jobRow(waiting)).net_id).toBe(freedNet);
    await sleep(FOLLOWER_DELAY_MS + 200);
    expect(claimsB).toHaveBeenCalled();
    // B claimed only the net it freed
    const scopes = claimsB.mock.calls.map(([scope]) => (scope ? scope.size : 'every net'));
    expect(scopes.every((size) => size === 1)).toBe(true);
    expect(claimsA).not.toHaveBeenCalled();
  });

  it('a change nobody dispatches (its instance does not pick up) is dispatched by another after the follower delay', async () => {
    const modelId = await s.newModel();
    const jobId = await queueOn(hubC, modelId);
    const startedAfter = await startedWithin(jobId, 3_000);
    expect(startedAfter).toBeGreaterThanOrEqual(FOLLOWER_DELAY_MS - 50); // A and B left it to C first
    expect(startedAfter).toBeLessThan(FOLLOWER_DELAY_MS + 1_000);
    expect(nets.reduce((sum, net) => sum + net.submitCount(modelId), 0)).toBe(1); // started once, by one of them
  });
});
