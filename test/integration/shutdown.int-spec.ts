import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { startHubProcess } from '../support/hub-process.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2'];
const SHUTDOWN_BOUND_MS = 15_000;

describe('graceful shutdown (SIGTERM) while jobs flow', () => {
  let db: TestDatabase;
  let net: FakeNet;
  let admin: TestHub;
  let survivor: TestHub | null = null;

  beforeAll(async () => {
    db = await createTestDatabase();
    net = await startFakeNet({ clients: SLOTS, autoFinishAfterMs: [20, 80] });
    admin = await startTestHub(db.url, { netEndpoints: [{ name: 'net-1', endpoint: net.url }], kitSlots: SLOTS });
  });

  afterAll(async () => {
    await survivor?.close();
    await admin?.close();
    await net?.close();
    await db?.drop();
  });

  const connections = async () =>
    (
      await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
      )
    ).rows[0].n;

  it('stops taking cycles, exits 0 within the bound, leaves no connection behind, and nothing unrecoverable', async () => {
    const before = await connections();
    const hub = await startHubProcess(db.url, {
      NET_ENDPOINTS: JSON.stringify({ 'net-1': net.url }),
      FL_KIT_SLOTS: SLOTS.join(','),
      PICKUP_INTERVAL_MS: '100',
      RECONCILE_INTERVAL_MS: '100',
      NET_LEASE_MS: '1500',
    });
    const s = await createScenario(admin, 2);
    for (let i = 0; i < 6; i++) await s.queue(await s.newModel());
    await new Promise((resolve) => setTimeout(resolve, 150)); // jobs in flight
    const sentAt = Date.now();
    hub.kill('SIGTERM');
    const exit = await hub.exited;
    const tookMs = exit.at - sentAt;
    console.log(`SIGTERM → exit: ${tookMs} ms`);
    expect(exit.code).toBe(0);
    expect(tookMs).toBeLessThan(SHUTDOWN_BOUND_MS);
    expect(await connections()).toBe(before);

    // whatever it left (a claimed job, a held net) another instance finishes
    survivor = await startTestHub(db.url, {
      netEndpoints: [{ name: 'net-1', endpoint: net.url }],
      kitSlots: SLOTS,
      pickupIntervalMs: 100,
      reconcileIntervalMs: 100,
      netLeaseMs: 1500,
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rows } = await db.pool.query<{ live: number; busy: number }>(
        `select (select count(*)::int from job where status in ('QUEUED', 'IN_PROGRESS')) as live,
                (select count(*)::int from scheduler where status <> 'AVAILABLE') as busy`,
      );
      if (rows[0].live === 0 && rows[0].busy === 0) break;
      if (Date.now() > deadline) throw new Error(`not finished: ${JSON.stringify(rows[0])}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const jobs = await db.pool.query(`select status, count(*)::int as n from job group by status`);
    expect(jobs.rows).toEqual([{ status: 'COMPLETED', n: 6 }]);
    expect(net.maxConcurrentActiveRuns).toBeLessThanOrEqual(1);
  }, 90_000);
});
