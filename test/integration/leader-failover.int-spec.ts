import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { killAllHubProcesses, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2'];
const FOLLOWER_DELAY_MS = 600;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function health(hub: HubProcess): Promise<{ leader: boolean; instance: string }> {
  const response = await fetch(`${hub.url}/health`);
  const body = (await response.json()) as { info: { dispatch: { leader: boolean; instance: string } } };
  return body.info.dispatch;
}

/**
 * The dispatch leader is a hub PROCESS SIGKILLed (no shutdown, no hand-over):
 * its lock goes with its database session, the surviving instance takes the
 * lead at its next look (every PICKUP_FOLLOWER_DELAY_MS) and from then on
 * dispatches at once. Nothing is lost.
 */
describe('the dispatch leader SIGKILLed: another instance takes over', () => {
  let db: TestDatabase;
  let net: FakeNet;
  /** setup and inspection only (no automatic pickup: it never leads) */
  let admin: TestHub;
  let s: Scenario;
  let hubs: HubProcess[] = [];

  async function startedAfter(jobId: string, timeoutMs: number): Promise<number> {
    const began = Date.now();
    while (Date.now() - began < timeoutMs) {
      const { rows } = await db.pool.query<{ backend_job_id: string | null }>('select backend_job_id from job where id = $1', [
        jobId,
      ]);
      if (rows[0]?.backend_job_id) return Date.now() - began;
      await sleep(10);
    }
    throw new Error(`job ${jobId} not started within ${timeoutMs} ms`);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    net = await startFakeNet({ clients: SLOTS, autoFinishAfterMs: 50 });
    admin = await startTestHub(db.url, { netEndpoints: [{ name: 'net-1', endpoint: net.url }], kitSlots: SLOTS });
    s = await createScenario(admin, 2);
    hubs = await Promise.all(
      ['p1', 'p2'].map((name) =>
        startHubProcess({
          name,
          databaseUrl: db.url,
          netEndpoints: { 'net-1': net.url },
          kitSlots: SLOTS,
          pickupIntervalMs: 60_000, // events only: the interval never fires during the test
          reconcileIntervalMs: 200,
          env: { PICKUP_FOLLOWER_DELAY_MS: String(FOLLOWER_DELAY_MS) },
        }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await killAllHubProcesses();
    await admin?.close();
    await net?.close();
    await db?.drop();
  });

  it('the survivor takes the lead within one look and dispatches at once; every job completes', async () => {
    const states = await Promise.all(hubs.map(health));
    expect(states.filter((state) => state.leader)).toHaveLength(1);
    const leader = hubs[states.findIndex((state) => state.leader)];
    const survivor = hubs.find((hub) => hub !== leader) as HubProcess;

    const before = await s.queue(await s.newModel());
    expect(await startedAfter(before, 5_000)).toBeLessThan(FOLLOWER_DELAY_MS); // the leader, at once

    leader.kill('SIGKILL');
    await leader.exited;
    const killedAt = Date.now();
    // the lock went with the dead session: the survivor takes the lead at its next look
    while (!(await health(survivor)).leader) {
      expect(Date.now() - killedAt).toBeLessThan(FOLLOWER_DELAY_MS + 1_000);
      await sleep(20);
    }
    await sleep(500); // the run of `before` is reconciled as FINISHED by the survivor: the net is free again

    const { queueTraining } = await survivor.gqlOk<{ queueTraining: { id: string } }>(
      'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }',
      { m: await s.newModel(), t: s.trustIds },
    );
    expect(await startedAfter(queueTraining.id, 10_000)).toBeLessThan(FOLLOWER_DELAY_MS); // the new leader, at once

    await sleep(500); // that run finishes and is reconciled: the net is free
    const next = await s.queue(await s.newModel());
    expect(await startedAfter(next, 5_000)).toBeLessThan(FOLLOWER_DELAY_MS); // the new leader, at once

    // nothing lost: every job COMPLETED, submitted once, the net free
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await db.pool.query<{ status: string; n: number }>(
        'select status, count(*)::int as n from job group by status',
      );
      if (rows.length === 1 && rows[0].status === 'COMPLETED') break;
      if (Date.now() > deadline) throw new Error(`jobs not all COMPLETED: ${JSON.stringify(rows)}`);
      await sleep(50);
    }
    expect(net.submitCount()).toBe(3);
    const { rows } = await db.pool.query<{ status: string }>('select status from scheduler');
    expect(rows.map((r) => r.status)).toEqual(['AVAILABLE']);
  });
});
