import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createTestDatabase, testPool, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet, type RecordedRequest } from '../support/fake-net.js';
import { killAllHubProcesses, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { sleep, until } from '../support/wait.js';

/**
 * SIGTERM on a hub process (src/main.ts): it stops taking pickup cycles, lets
 * the one in flight finish, closes every database connection and exits 0
 * within its 15 s hard bound; whatever it leaves behind another instance
 * finishes (lease expiry, reconcile).
 */

const SLOTS = ['site-1', 'site-2'];
const SHUTDOWN_BOUND_MS = 15_000;
const LEASE_MS = 1500;
const INSPECTOR = 'shutdown-inspector';
const figures: string[] = [];
/** the flowing hub's CLIENT_STATUS_INTERVAL_MS: short, so that polls fall due while its shutdown waits */
const CLIENT_POLL_MS = 50;

/**
 * A start's check_client_status: the start's later calls (upload_app, submit_job) carry the same request id;
 * a client-status poll (ClientStatusRefresher) is a check_client_status alone.
 */
function isStart(net: FakeNet, check: RecordedRequest): boolean {
  const id = check.headers['x-request-id'];
  return [...net.requestsTo('upload_app'), ...net.requestsTo('submit_job')].some((r) => r.headers['x-request-id'] === id);
}

/** A database of the test's own, with an inspection pool whose sessions are named (so they can be told apart). */
async function database(): Promise<{ db: TestDatabase; pool: pg.Pool; pgPort: number }> {
  const db = await createTestDatabase();
  const pool = testPool({ connectionString: db.url, application_name: INSPECTOR, max: 2 });
  return { db, pool, pgPort: Number(new URL(db.url).port) };
}

/** Sessions on the database other than the inspector's; `ports`: only those from these client ports. */
async function sessions(pool: pg.Pool, ports?: number[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
      where datname = current_database() and application_name <> $1 and ($2::int[] is null or client_port = any($2::int[]))`,
    [INSPECTOR, ports ?? null],
  );
  return rows[0].n;
}

async function jobCounts(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: number }>(`select status, count(*)::int as n from job group by status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function waitUntilClean(pool: pg.Pool, timeoutMs: number): Promise<void> {
  await until(
    async () => {
      const { rows } = await pool.query<{ live: number; busy: number }>(
        `select (select count(*)::int from job where status in ('QUEUED', 'IN_PROGRESS')) as live,
                (select count(*)::int from scheduler where status <> 'AVAILABLE') as busy`,
      );
      return rows[0].live === 0 && rows[0].busy === 0;
    },
    { what: 'all jobs terminal and all nets AVAILABLE', timeoutMs: timeoutMs },
  );
}

afterAll(async () => {
  await killAllHubProcesses();
  if (figures.length > 0)
    console.log(['graceful shutdown (SIGTERM → process exit):', ...figures.map((f) => `  ${f}`)].join('\n'));
});

describe('graceful shutdown (SIGTERM) of a hub process', () => {
  // one: jobs flowing on two nets, a start in flight on net-1 when the signal arrives
  let flowing: { db: TestDatabase; pool: pg.Pool; pgPort: number; nets: FakeNet[]; hub: HubProcess; s: Scenario };
  // two: a net that never answers holds the in-flight start
  let hanging: { db: TestDatabase; pool: pg.Pool; pgPort: number; net: FakeNet; hub: HubProcess; s: Scenario };
  let survivor: TestHub | null = null;

  beforeAll(async () => {
    const startFlowing = async () => {
      const { db, pool, pgPort } = await database();
      const nets = [
        await startFakeNet({ clients: SLOTS, autoFinishAfterMs: [20, 60] }),
        await startFakeNet({ clients: SLOTS, autoFinishAfterMs: [20, 60] }),
      ];
      const hub = await startHubProcess({
        name: 'shutdown-flowing',
        databaseUrl: db.url,
        logLevel: 'info', // its "shutting down" line tells the test the signal was handled
        netEndpoints: { 'net-1': nets[0].url, 'net-2': nets[1].url },
        kitSlots: SLOTS,
        pickupIntervalMs: 100,
        reconcileIntervalMs: 100,
        netLeaseMs: LEASE_MS,
        // client-status rounds fall due many times while the shutdown waits for the slow start: none may begin
        env: { CLIENT_STATUS_INTERVAL_MS: String(CLIENT_POLL_MS) },
      });
      flowing = { db, pool, pgPort, nets, hub, s: await createScenario(hub, 2) };
    };
    const startHanging = async () => {
      const { db, pool, pgPort } = await database();
      const net = await startFakeNet({ clients: SLOTS, autoFinishAfterMs: 50 });
      // NET_CALL_TIMEOUT_MS: the default (10 s)
      const hub = await startHubProcess({
        name: 'shutdown-hanging',
        databaseUrl: db.url,
        netEndpoints: { 'net-h': net.url },
        kitSlots: SLOTS,
        pickupIntervalMs: 100,
        reconcileIntervalMs: 100,
        netLeaseMs: LEASE_MS,
        // FLIP's fail-fast mode: the start that times out removes its job (retries: admission.int-spec.ts)
        maxStartAttempts: 1,
        env: { ADMISSION_MAX_WAIT_MS: '0' },
      });
      hanging = { db, pool, pgPort, net, hub, s: await createScenario(hub, 2) };
    };
    await Promise.all([startFlowing(), startHanging()]);
  }, 120_000);

  afterAll(async () => {
    await killAllHubProcesses();
    await survivor?.close();
    for (const net of [...(flowing?.nets ?? []), ...(hanging ? [hanging.net] : [])]) await net.close();
    for (const x of [flowing, hanging]) {
      await x?.pool.end();
      await x?.db.drop();
    }
  });

  it('with jobs flowing and a start in flight: takes no new cycle after the signal, exits 0 within the bound, closes every connection, and another instance finishes what it left', async () => {
    const { pool, pgPort, nets, hub, s } = flowing;
    const models: string[] = [];
    for (let i = 0; i < 8; i++) models.push(await s.newModel());
    for (const m of models.slice(0, 6)) await s.queue(m);
    // jobs flow; then net-2 keeps its next run, and the next start on net-1 is slow in upload_app
    await until(() => nets[0].submitCount() + nets[1].submitCount() >= 3, { what: 'three runs submitted' });
    nets[1].setAutoFinish(undefined);
    const uploadsBefore = nets[0].requestsTo('upload_app').length;
    nets[0].fail('upload_app', { delayMs: 1500, times: 1 });
    for (const m of models.slice(6)) await s.queue(m);
    await until(() => nets[0].requestsTo('upload_app').length > uploadsBefore, { what: 'a slow upload in flight on net-1' });
    // net-2 holds a confirmed run and jobs wait: nothing to claim until a net is freed
    const net2Job = async () =>
      (
        await pool.query<{ id: string | null; phase: string | null; queued: number }>(
          `select j.id, j.start_phase as phase, (select count(*)::int from job where status = 'QUEUED') as queued
             from scheduler s join net n on n.id = s.net_id left join job j on j.id = s.job_id where n.name = 'net-2'`,
        )
      ).rows[0];
    await until(
      async () => {
        const row = await net2Job();
        return row.phase === 'RUNNING' && row.queued > 0;
      },
      { what: 'net-2 running a job while jobs wait' },
    );
    const held = (await net2Job()).id as string;
    await sleep(150); // time passes on purpose: several interval ticks land while the start on net-1 is in flight

    const ports = await hub.tcpPortsTo(pgPort);
    expect(ports.length).toBeGreaterThan(0);
    expect(await sessions(pool, ports)).toBe(ports.length); // the hub's sessions, seen from the server
    const claimedBefore = (await pool.query<{ n: number }>(`select count(*)::int as n from job where attempts > 0`)).rows[0].n;
    const signalAt = Date.now();
    hub.kill('SIGTERM');
    // once the hub is shutting down (waiting on the slow start), net-2 is freed with jobs queued: a change that
    // would start a cycle — announced to the hub by the database — must not, after the signal
    await until(() => hub.output().includes('SIGTERM: shutting down'), { what: 'the hub handling the signal', intervalMs: 5 });
    const handledBy = Date.now(); // the hub handled the signal before this
    await pool.query(
      `with done as (update job set status = 'COMPLETED', completed_at = now() where id = $1 returning id)
       update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null where job_id in (select id from done)`,
      [held],
    );
    nets[1].finishAll(); // the net says the same
    nets[1].setAutoFinish([20, 60]);
    const exit = await hub.exited;
    figures.push(`jobs flowing, a start in flight (slow upload 1.5 s): ${exit.sinceSignalMs} ms, exit code ${exit.code}`);

    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.sinceSignalMs).toBeLessThan(SHUTDOWN_BOUND_MS);
    // it took no new cycle: no job claimed after the signal, no new start on any net
    const claimedAfter = (await pool.query<{ n: number }>(`select count(*)::int as n from job where attempts > 0`)).rows[0].n;
    const startsAfterSignal = nets.flatMap((net) =>
      net.requestsTo('check_client_status').filter((r) => r.at.getTime() > signalAt && isStart(net, r)),
    );
    // nor a new client-status round once the signal was handled (there were rounds before it); a round already under
    // way then may still ask each net once. Without the stop at the signal: a round every CLIENT_POLL_MS while the
    // shutdown waits (54 polls in one run)
    const polls = nets.map((net) => net.requestsTo('check_client_status').filter((r) => !isStart(net, r)));
    expect(polls.flat().filter((r) => r.at.getTime() < signalAt).length).toBeGreaterThan(0);
    const pollsAfter = polls.map((own) => own.filter((r) => r.at.getTime() > handledBy).length);
    expect(Math.max(...pollsAfter)).toBeLessThanOrEqual(1);
    // no session of its own is left on the server, nor any other besides the inspector's
    expect(await sessions(pool, ports)).toBe(0);
    expect(await sessions(pool)).toBe(0);
    // the start in flight ran to its end during the shutdown (not cut off half-way)
    const halfway = await pool.query(`select id, start_phase from job where status = 'IN_PROGRESS' and start_phase <> 'RUNNING'`);
    expect(halfway.rows).toEqual([]);

    // whatever it left (queued jobs, a running run) another instance finishes
    survivor = await startTestHub(flowing.db.url, {
      netEndpoints: [
        { name: 'net-1', endpoint: nets[0].url },
        { name: 'net-2', endpoint: nets[1].url },
      ],
      kitSlots: SLOTS,
      pickupIntervalMs: 100,
      reconcileIntervalMs: 100,
      netLeaseMs: LEASE_MS,
    });
    await waitUntilClean(pool, 20_000);
    expect(await jobCounts(pool)).toEqual({ COMPLETED: 8 });
    for (const m of models) expect(nets[0].submitCount(m) + nets[1].submitCount(m)).toBe(1);
    for (const net of nets) {
      expect(net.maxConcurrentActiveRuns).toBeLessThanOrEqual(1);
      expect(net.activeRuns()).toEqual([]);
    }
    // checked last, so that everything above is verified either way. It took no new cycle after the signal: no
    // job claimed, no new start on any net, though net-2 was freed with jobs queued while it shut down.
    expect({ claimedAfter, startsAfterSignal: startsAfterSignal.length }).toEqual({
      claimedAfter: claimedBefore,
      startsAfterSignal: 0,
    });
  }, 90_000);

  it('with a start held by a net that never answers: waits for the net call timeout (10 s), still exits 0 within the bound, and leaves nothing stuck', async () => {
    const { pool, pgPort, net, hub, s } = hanging;
    net.fail('check_client_status', { hang: true });
    const modelId = await s.newModel();
    await s.queue(modelId);
    await until(() => net.requestsTo('check_client_status').length > 0, { what: 'the start waiting on the net' });
    const ports = await hub.tcpPortsTo(pgPort);
    expect(ports.length).toBeGreaterThan(0);
    hub.kill('SIGTERM');
    const exit = await hub.exited;
    figures.push(
      `a start held by a net that never answers (NET_CALL_TIMEOUT_MS 10 s): ${exit.sinceSignalMs} ms, exit code ${exit.code}`,
    );
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.sinceSignalMs).toBeLessThan(SHUTDOWN_BOUND_MS);
    expect(await sessions(pool, ports)).toBe(0);
    expect(await sessions(pool)).toBe(0);
    // the start failed on the timeout before the exit: the job is removed, the model ERROR, the net free
    const job = await pool.query(
      `select j.status, m.status as model from job j join model m on m.id = j.model_id where j.model_id = $1`,
      [modelId],
    );
    expect(job.rows).toEqual([{ status: 'DELETED', model: 'ERROR' }]);
    const schedulers = await pool.query(`select status, job_id from scheduler`);
    expect(schedulers.rows).toEqual([{ status: 'AVAILABLE', job_id: null }]);
    expect(net.submitCount()).toBe(0);
  }, 60_000);
});
