import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/database/embedded-postgres.js';
import { ensureDatabase } from '../../src/database/ensure-database.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet, type NetCallName } from '../support/fake-net.js';
import { startHubProcess, type HubProcess } from '../support/hub-process.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

const SLOTS = ['site-1', 'site-2', 'site-3'];
const LEASE_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const recoveryTimes: Array<{ fault: string; ms: number }> = [];

/** Waits until every job is COMPLETED or DELETED and every net AVAILABLE; returns when that was first seen. */
async function waitUntilClean(pool: pg.Pool, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ live: number; busy: number }>(
      `select (select count(*)::int from job where status in ('QUEUED', 'IN_PROGRESS')) as live,
              (select count(*)::int from scheduler where status <> 'AVAILABLE') as busy`,
    );
    if (rows[0].live === 0 && rows[0].busy === 0) return Date.now();
    if (Date.now() > deadline) {
      const state = await pool.query(`select status, start_phase, attempts from job where status in ('QUEUED', 'IN_PROGRESS')`);
      const nets = await pool.query(`select status, job_id, lease_until, sweep_pending from scheduler`);
      throw new Error(`not clean after ${timeoutMs} ms: jobs ${JSON.stringify(state.rows)}, nets ${JSON.stringify(nets.rows)}`);
    }
    await sleep(25);
  }
}

afterAll(() => {
  console.log(
    [
      'fault → back to a clean state (all jobs terminal, all nets AVAILABLE):',
      ...recoveryTimes.map((r) => `  ${r.fault}: ${r.ms} ms`),
    ].join('\n'),
  );
});

describe('a hub process killed (SIGKILL) while it starts a job', () => {
  let db: TestDatabase;
  let net: FakeNet;
  let admin: TestHub;
  let s: Scenario;
  let victim: HubProcess | null = null;
  let survivor: TestHub | null = null;
  let killAt: { call: NetCallName | 'after-submit'; armed: boolean; at: number } = {
    call: 'check_client_status',
    armed: false,
    at: 0,
  };

  const killNow = () => {
    if (!killAt.armed || !victim) return;
    killAt.armed = false;
    killAt.at = Date.now();
    victim.kill('SIGKILL');
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    net = await startFakeNet({
      clients: SLOTS,
      onRequest: (request) => {
        if (request.call === killAt.call) killNow();
      },
      onSubmit: () => {
        if (killAt.call === 'after-submit') killNow();
      },
    });
    // setup and inspection only: no pickup of its own
    admin = await startTestHub(db.url, { netEndpoints: [{ name: 'net-1', endpoint: net.url }], kitSlots: SLOTS });
    s = await createScenario(admin, 2);
  }, 120_000);

  afterEach(async () => {
    victim?.kill('SIGKILL');
    await survivor?.close();
    victim = null;
    survivor = null;
  });

  afterAll(async () => {
    await admin?.close();
    await net?.close();
    await db?.drop();
  });

  it.each([
    ['before the HTTP start (at check_client_status)', 'check_client_status' as const, 1],
    ['between upload and submit (at upload_app)', 'upload_app' as const, 1],
    ['after submit (the net runs an orphan)', 'after-submit' as const, 2],
  ])(
    'killed %s: the job is recovered by lease expiry, run once to completion, and no net stays BUSY',
    async (label, call, expectedSubmits) => {
      net.setAutoFinish(call === 'after-submit' ? undefined : 100);
      victim = await startHubProcess(db.url, {
        NET_ENDPOINTS: JSON.stringify({ 'net-1': net.url }),
        FL_KIT_SLOTS: SLOTS.join(','),
        PICKUP_INTERVAL_MS: '60000',
        NET_LEASE_MS: String(LEASE_MS),
        RECONCILE_INTERVAL_MS: '0',
      });
      killAt = { call, armed: true, at: 0 };
      const modelId = await s.newModel();
      const jobId = await s.queue(modelId); // the victim is the only instance picking up: it claims the job
      const exit = await victim.exited;
      expect(exit.signal).toBe('SIGKILL');
      const stuck = await db.pool.query(`select status, start_phase from job where id = $1`, [jobId]);
      expect(stuck.rows[0].status).toBe('IN_PROGRESS');

      net.setAutoFinish(100);
      survivor = await startTestHub(db.url, {
        netEndpoints: [{ name: 'net-1', endpoint: net.url }],
        kitSlots: SLOTS,
        netLeaseMs: LEASE_MS,
        pickupIntervalMs: 100,
        reconcileIntervalMs: 100,
      });
      const cleanAt = await waitUntilClean(db.pool, LEASE_MS * 4 + 10_000);
      recoveryTimes.push({ fault: `hub SIGKILLed ${label}`, ms: cleanAt - killAt.at });

      const job = await db.pool.query(`select status, attempts from job where id = $1`, [jobId]);
      expect(job.rows[0]).toEqual({ status: 'COMPLETED', attempts: 2 });
      const runs = net.runs().filter((r) => r.modelId === modelId);
      expect(runs).toHaveLength(expectedSubmits);
      expect(runs.filter((r) => r.status === 'FINISHED')).toHaveLength(1);
      if (expectedSubmits === 2) expect(runs[0].status).toBe('STOPPED'); // the orphan was aborted by the sweep
      expect(net.maxConcurrentActiveRuns).toBeLessThanOrEqual(1);
    },
    60_000,
  );
});

describe('PostgreSQL connections killed while jobs flow', () => {
  let db: TestDatabase;
  let net: FakeNet;
  let hub: TestHub;

  beforeAll(async () => {
    db = await createTestDatabase();
    net = await startFakeNet({ clients: SLOTS, autoFinishAfterMs: [20, 60] });
    hub = await startTestHub(db.url, {
      netEndpoints: [{ name: 'net-1', endpoint: net.url }],
      kitSlots: SLOTS,
      netLeaseMs: LEASE_MS,
      pickupIntervalMs: 100,
      reconcileIntervalMs: 100,
    });
  });

  afterAll(async () => {
    await hub?.close();
    await net?.close();
    await db?.drop();
  });

  it('pg_terminate_backend on every hub connection, repeatedly: every job still ends COMPLETED, no net stays BUSY', async () => {
    const s = await createScenario(hub, 2);
    const models: string[] = [];
    for (let i = 0; i < 15; i++) models.push(await s.newModel());
    for (const m of models) await s.queue(m);
    let lastKill = Date.now();
    for (let round = 0; round < 12; round++) {
      await db.pool.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
           and backend_type = 'client backend' and pid not in (select pid from pg_stat_activity where application_name = 'jest-inspector')`,
      );
      lastKill = Date.now();
      await sleep(150);
    }
    // the hub answers again without a restart
    const { nets } = await hub.gqlOk('{ nets { name } }');
    expect(nets).toEqual([{ name: 'net-1' }]);
    const cleanAt = await waitUntilClean(db.pool, 30_000);
    recoveryTimes.push({ fault: 'pg_terminate_backend ×12 mid-cycle (from the last kill)', ms: cleanAt - lastKill });
    const jobs = await db.pool.query(`select status, count(*)::int as n from job group by status`);
    expect(jobs.rows).toEqual([{ status: 'COMPLETED', n: 15 }]);
    expect(net.maxConcurrentActiveRuns).toBeLessThanOrEqual(1);
    for (const m of models) expect(net.runs().filter((r) => r.modelId === m && r.status === 'FINISHED')).toHaveLength(1);
  }, 60_000);
});

describe('PostgreSQL restarted while the hub runs', () => {
  const dataDir = `.data/fault-pg-${process.pid}`;
  let cluster: EmbeddedPostgresHandle;
  let port: number;
  let pool: pg.Pool;
  let net: FakeNet;
  let hub: TestHub;

  beforeAll(async () => {
    port = await freePort();
    cluster = await startEmbeddedPostgres({ dataDir, port, ephemeral: true });
    await ensureDatabase(cluster.adminUrl, 'fl_fault');
    pool = new pg.Pool({ connectionString: cluster.urlFor('fl_fault'), max: 2 });
    pool.on('error', () => undefined); // its idle connections die with the server
    net = await startFakeNet({ clients: SLOTS, autoFinishAfterMs: [20, 60] });
    hub = await startTestHub(cluster.urlFor('fl_fault'), {
      netEndpoints: [{ name: 'net-1', endpoint: net.url }],
      kitSlots: SLOTS,
      netLeaseMs: LEASE_MS,
      pickupIntervalMs: 100,
      reconcileIntervalMs: 100,
    });
  }, 120_000);

  afterAll(async () => {
    await hub?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await net?.close();
    await cluster?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the hub recovers without a restart, and every job ends COMPLETED', async () => {
    const s = await createScenario(hub, 2);
    const models: string[] = [];
    for (let i = 0; i < 10; i++) models.push(await s.newModel());
    for (const m of models.slice(0, 5)) await s.queue(m);
    await sleep(150);
    await cluster.stop();
    const downAt = Date.now();
    // while the database is down the API fails cleanly
    const during = await hub.gql('{ nets { name } }');
    expect(during.status).toBeLessThan(600);
    await sleep(2000);
    cluster = await startEmbeddedPostgres({ dataDir, port, ephemeral: true });
    const upAt = Date.now();
    for (const m of models.slice(5)) {
      // the pool may hand out a dead connection once per slot: retry like a client would
      for (let attempt = 0; ; attempt++) {
        const response = await hub.gql('mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }', {
          m,
          t: s.trustIds,
        });
        if (!response.errors) break;
        if (attempt > 20) throw new Error(JSON.stringify(response.errors));
        await sleep(100);
      }
    }
    const cleanAt = await waitUntilClean(pool, 30_000);
    recoveryTimes.push({ fault: `PostgreSQL down ${upAt - downAt} ms, then restarted (from the restart)`, ms: cleanAt - upAt });
    const jobs = await pool.query(`select status, count(*)::int as n from job group by status`);
    expect(jobs.rows).toEqual([{ status: 'COMPLETED', n: 10 }]);
    expect(net.maxConcurrentActiveRuns).toBeLessThanOrEqual(1);
  }, 90_000);
});
