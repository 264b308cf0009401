import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/database/embedded-postgres.js';
import { ensureDatabase } from '../../src/database/ensure-database.js';
import { createTestDatabase, testPool, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet, type NetCallName } from '../support/fake-net.js';
import { killAllHubProcesses, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { trailOf } from '../support/trail.js';
import { sleep, until } from '../support/wait.js';

/**
 * Faults against real PostgreSQL, real (fake) FL nets over HTTP and hub
 * processes (src/main.ts): a hub SIGKILLed mid-start, nets failing in every
 * way, database sessions killed, PostgreSQL restarted. For each fault: every
 * job ends in one terminal state (or is requeued and then completes), no net
 * stays BUSY past its lease, a COMPLETED job's run was submitted once (a run
 * the hub does not own ends aborted), no two runs overlap on a net, and the
 * hub recovers without a restart where it survives. The time from the fault to
 * a clean state (all jobs terminal, all nets AVAILABLE) is printed at the end.
 */

const SLOTS = ['site-1', 'site-2', 'site-3'];
const LEASE_MS = 1500;
/** how far past its lease a BUSY net may be seen before it counts as stuck (recovery runs on the 100 ms cycle) */
const LEASE_SLACK_MS = 1000;
const INSPECTOR = 'fault-inspector';
const ALL_CALLS: NetCallName[] = ['check_client_status', 'upload_app', 'submit_job', 'list_jobs', 'abort_job'];

interface Figure {
  fault: string;
  /** fault injected → clean */
  injectedMs: number;
  /** fault cleared → clean (faults that last a while) */
  clearedMs?: number;
  outcome: string;
  maxLeaseOverdueMs: number;
  leaseNote?: string;
}
const figures: Figure[] = [];

afterAll(async () => {
  await killAllHubProcesses();
  const header = ['fault', 'injected → clean', 'cleared → clean', 'jobs', 'max BUSY past lease'];
  const rows = figures.map((f) => [
    f.fault,
    `${f.injectedMs} ms`,
    f.clearedMs === undefined ? '' : f.clearedMs < 0 ? `clean ${-f.clearedMs} ms before` : `${f.clearedMs} ms`,
    f.outcome,
    `${Math.round(f.maxLeaseOverdueMs)} ms${f.leaseNote ? ` (${f.leaseNote})` : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    [
      'Recovery times (clean = every job COMPLETED/DELETED, every net AVAILABLE):',
      line(header),
      line(widths.map((w) => '-'.repeat(w))),
      ...rows.map(line),
    ].join('\n'),
  );
});

// ---- helpers ----

/** A pool for inspection, its sessions named so that the session killer spares them. */
function inspector(url: string): pg.Pool {
  return testPool({ connectionString: url, application_name: INSPECTOR, max: 2 }); // idle sessions die with a restarted server
}

/**
 * Waits until every job is COMPLETED or DELETED and every net AVAILABLE; returns when that was first seen.
 * `explain`: more for the failure message (what the hub and the nets did about the jobs still live).
 */
async function waitUntilClean(pool: pg.Pool, timeoutMs: number, explain?: () => Promise<string[]>): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { rows } = await pool.query<{ live: number; busy: number }>(
        `select (select count(*)::int from job where status in ('QUEUED', 'IN_PROGRESS')) as live,
                (select count(*)::int from scheduler where status <> 'AVAILABLE') as busy`,
      );
      if (rows[0].live === 0 && rows[0].busy === 0) return Date.now();
    } catch {
      // the database may be away for a moment (fault d)
    }
    if (Date.now() > deadline) {
      const jobs = await pool.query(`select status, start_phase, attempts from job where status in ('QUEUED', 'IN_PROGRESS')`);
      const nets = await pool.query(
        `select status, job_id, lease_until, sweep_pending from scheduler where status <> 'AVAILABLE'`,
      );
      const more = explain ? await explain().catch((error: unknown) => [`(no trail: ${String(error)})`]) : [];
      throw new Error(
        [`not clean after ${timeoutMs} ms: jobs ${JSON.stringify(jobs.rows)}, nets ${JSON.stringify(nets.rows)}`, ...more].join(
          '\n',
        ),
      );
    }
    await sleep(20);
  }
}

/**
 * Samples the schedulers every 50 ms: how far past its lease a BUSY net was
 * ever seen. `notBefore` (ms epoch): a lease that ran out earlier counts from
 * then (the database was away: nothing could recover it meanwhile).
 */
class LeaseWatch {
  maxOverdueMs = 0;
  notBefore = 0;
  readonly stuck: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly slackMs = LEASE_SLACK_MS,
    notBefore = 0,
  ) {
    this.notBefore = notBefore;
    this.loop = this.run();
  }

  async stop(): Promise<this> {
    this.running = false;
    await this.loop;
    return this;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const { rows } = await this.pool.query<{ name: string; overdue: number; jobId: string | null; sweep: boolean }>(
          `select n.name, s.job_id as "jobId", s.sweep_pending as sweep,
                  (extract(epoch from now() - greatest(s.lease_until, to_timestamp($1::float8 / 1000))) * 1000)::float8 as overdue
             from scheduler s join net n on n.id = s.net_id
            where s.status = 'BUSY' and s.lease_until < now()`,
          [this.notBefore],
        );
        for (const row of rows) {
          if (row.overdue <= 0) continue;
          this.maxOverdueMs = Math.max(this.maxOverdueMs, row.overdue);
          if (row.overdue > this.slackMs) {
            this.stuck.push(
              `${row.name} BUSY ${Math.round(row.overdue)} ms past its lease (job ${row.jobId}, sweep ${row.sweep})`,
            );
          }
        }
      } catch {
        // the database may be away (fault d)
      }
      await sleep(50);
    }
  }
}

interface JobRow {
  id: string;
  modelId: string;
  status: string;
  phase: string | null;
  backendJobId: string | null;
  startedAt: Date | null;
  attempts: number;
  modelStatus: string;
  net: string | null;
  endReason: string | null;
  /** its start attempts, "net outcome: detail" in order: says why a job ended where it did when an assertion fails */
  startAttempts: string[];
}

async function jobsOf(pool: pg.Pool, modelIds: string[]): Promise<JobRow[]> {
  const { rows } = await pool.query<JobRow>(
    `select j.id, j.model_id as "modelId", j.status, j.start_phase as phase, j.backend_job_id as "backendJobId",
            j.started_at as "startedAt", j.attempts, m.status as "modelStatus", n.name as net, j.end_reason as "endReason",
            array(select concat_ws(' ', an.name, a.outcome || ':', a.detail)
                    from start_attempt a left join net an on an.id = a.net_id
                   where a.job_id = j.id order by a.seq) as "startAttempts"
       from job j join model m on m.id = j.model_id left join net n on n.id = j.net_id
      where j.model_id = any($1::uuid[]) order by j.seq`,
    [modelIds],
  );
  return rows;
}

/**
 * The invariants every fault must keep, checked once the system is clean:
 * one job per model, each COMPLETED or DELETED; a COMPLETED job's run was
 * submitted once (`orphanAllowed`: models whose start died after submit_job,
 * where the hub cannot know the first run — that one must end aborted); every
 * run the hub does not own ended aborted (STOPPED) or was lost by its net; no
 * two runs overlapped on a net; nothing runs on a net any more; every net AVAILABLE.
 */
async function expectInvariants(
  pool: pg.Pool,
  nets: FakeNet[],
  modelIds: string[],
  options: { orphanAllowed?: string[]; overlapAllowed?: boolean; hubLogs?: () => string } = {},
): Promise<JobRow[]> {
  const jobs = await jobsOf(pool, modelIds);
  const problems: string[] = [];
  if (jobs.length !== modelIds.length) problems.push(`${jobs.length} jobs for ${modelIds.length} models`);
  // a run is its job's own when the job COMPLETED, or ended because the net reported the run failed (RUN_FAILED)
  const owned = new Set(jobs.filter((j) => j.status === 'COMPLETED' || j.endReason === 'RUN_FAILED').map((j) => j.backendJobId));
  for (const job of jobs) {
    const submits = nets.reduce((n, net) => n + net.submitCount(job.modelId), 0);
    if (job.status === 'COMPLETED') {
      if (job.backendJobId === null) problems.push(`job ${job.id} COMPLETED without a run id`);
      const allowed = options.orphanAllowed?.includes(job.modelId) ? 2 : 1;
      if (submits < 1 || submits > allowed) problems.push(`job ${job.id} COMPLETED after ${submits} submit_job calls`);
    } else if (job.status === 'DELETED') {
      if (job.startedAt !== null) problems.push(`job ${job.id} DELETED with startedAt set`);
    } else {
      problems.push(`job ${job.id} is ${job.status} (${job.phase})`);
    }
  }
  const models = new Set(modelIds);
  for (const [i, net] of nets.entries()) {
    for (const run of net.runs()) {
      if (models.has(run.modelId) && !owned.has(run.job_id) && run.status !== 'STOPPED') {
        problems.push(
          `net #${i + 1}: run ${run.job_id} of model ${run.modelId} is not its COMPLETED job's run and ended ${run.status}, not aborted`,
        );
      }
    }
    if (net.maxConcurrentActiveRuns > 1 && !options.overlapAllowed)
      problems.push(`net #${i + 1}: ${net.maxConcurrentActiveRuns} runs were active at once`);
    if (net.activeRuns().length > 0)
      problems.push(`net #${i + 1}: runs still active on a clean system: ${JSON.stringify(net.activeRuns())}`);
  }
  const busy = await pool.query(`select id, status, job_id from scheduler where status <> 'AVAILABLE'`);
  if (busy.rows.length > 0) problems.push(`nets not AVAILABLE: ${JSON.stringify(busy.rows)}`);
  if (problems.length > 0) problems.push(...(await trailOf(pool, nets, namedIn(jobs, problems), options.hubLogs)));
  expect(problems).toEqual([]);
  return jobs;
}

/** The jobs a problem names (by job or model id). */
const namedIn = (jobs: JobRow[], problems: string[]) =>
  jobs.filter((j) => problems.some((p) => p.includes(j.id) || p.includes(j.modelId)));

/**
 * For a system that did not come clean: each live job's trail (`trailOf`), when each net last answered
 * list_jobs, and the hub's last log lines (its reconcile and start warnings).
 */
async function liveTrail(pool: pg.Pool, nets: FakeNet[], hubLogs: () => string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string; modelId: string; backendJobId: string | null; net: string | null }>(
    `select j.id, j.model_id as "modelId", j.backend_job_id as "backendJobId", n.name as net
       from job j left join net n on n.id = j.net_id where j.status in ('QUEUED', 'IN_PROGRESS')`,
  );
  const lines = rows.map((r) => `live job ${r.id} (model ${r.modelId}) on ${r.net ?? 'no net'}, run ${r.backendJobId ?? 'none'}`);
  const listed = nets.map((net, i) => {
    const calls = net.requests.filter((r) => r.call === 'list_jobs');
    return `net #${i + 1}: ${calls.length} list_jobs calls, the last at ${calls.at(-1)?.at.toISOString() ?? 'never'}`;
  });
  const trail = await trailOf(pool, nets, rows, hubLogs);
  return [...lines, ...listed, ...trail, `hub's last log lines ${JSON.stringify(hubLogs().split('\n').slice(-40))}`];
}

/**
 * a's survivor, b, c: how long the hub waits for a net's answer. Generous, so that a healthy net (net-2; net-1
 * outside its fault) is never taken for a failed one on a loaded machine: at 400 ms a slow answer of the healthy
 * Flower net failed its start, and fail-fast mode removed its job. A hang still meets it within the test's bounds.
 */
const NET_FAULT_CALL_TIMEOUT_MS = 2000;
/**
 * a's survivor, b, c: the lease of a hub that lives through the fault outlasts a start that waits out one
 * timed-out call (every hang fault here), so that such a start ends as a failed start, as in production
 * (NET_LEASE_MS ≫ NET_CALL_TIMEOUT_MS), not as an expired lease. With LEASE_MS (shorter than one call's
 * timeout), a start of the survivor's own that a loaded machine slows past 1.5 s before its submit is recovered
 * under it and retried — the likely way a job behind the one under test once ended with two attempts.
 */
const NET_FAULT_LEASE_MS = 2 * NET_FAULT_CALL_TIMEOUT_MS;

const outcome = (jobs: JobRow[]) => {
  const completed = jobs.filter((j) => j.status === 'COMPLETED').length;
  const deleted = jobs.filter((j) => j.status === 'DELETED').length;
  return `${completed} completed, ${deleted} deleted`;
};

const RUN_PICKUP_CYCLE = 'mutation { runPickupCycle { started { id } failed { id } } }';

// ---- a. a hub process SIGKILLed mid-start ----

type KillPoint = NetCallName | 'after-submit' | 'after-confirm';

interface KillCase {
  label: string;
  at: KillPoint;
  /** the job's phase left behind by the dead hub */
  phase: 'CLAIMED' | 'SUBMITTING' | 'RUNNING';
  /** the survivor's MAX_START_ATTEMPTS */
  maxStartAttempts?: number;
  expected: { status: 'COMPLETED' | 'DELETED'; attempts: number; submits: number; modelStatus?: string };
}

const KILL_CASES: KillCase[] = [
  {
    label: 'before the HTTP start (at check_client_status)',
    at: 'check_client_status',
    phase: 'CLAIMED',
    expected: { status: 'COMPLETED', attempts: 2, submits: 1 },
  },
  {
    label: 'between upload and submit (at upload_app)',
    at: 'upload_app',
    phase: 'CLAIMED',
    expected: { status: 'COMPLETED', attempts: 2, submits: 1 },
  },
  {
    label: 'after submit (orphan run on the net)',
    at: 'after-submit',
    phase: 'SUBMITTING',
    expected: { status: 'COMPLETED', attempts: 2, submits: 2 },
  },
  {
    label: 'after the start was confirmed (run RUNNING)',
    at: 'after-confirm',
    phase: 'RUNNING',
    expected: { status: 'COMPLETED', attempts: 1, submits: 1 },
  },
  {
    label: 'before the HTTP start, last allowed attempt (MAX_START_ATTEMPTS=1)',
    at: 'check_client_status',
    phase: 'CLAIMED',
    maxStartAttempts: 1,
    expected: { status: 'DELETED', attempts: 1, submits: 0, modelStatus: 'ERROR' },
  },
];

describe('a. a hub process SIGKILLed while it starts a job; a second instance recovers it', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let net: FakeNet;
  let admin: TestHub;
  let s: Scenario;
  let victims: HubProcess[] = [];
  let armed: { at: KillPoint; victim: HubProcess } | null = null;

  const killIf = (point: KillPoint) => {
    if (armed?.at !== point) return;
    armed.victim.kill('SIGKILL');
    armed = null;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = inspector(db.url);
    net = await startFakeNet({
      clients: SLOTS,
      autoFinishAfterMs: 100,
      onRequest: (request) => {
        if (request.call) killIf(request.call);
      },
      onSubmit: () => killIf('after-submit'),
    });
    // setup and inspection only: no pickup of its own
    admin = await startTestHub(db.url, { netEndpoints: [{ name: 'net-1', endpoint: net.url }], kitSlots: SLOTS });
    s = await createScenario(admin, 2);
    // one victim per case; no automatic pickup: each runs exactly the cycle it is asked for. Started one after
    // another: started together, all five took their start-up lock in turn (database-bootstrap.service.ts) while
    // competing for the CPU, so the last one's 60 s bound also paid for the four starts before it
    victims = [];
    for (const [i] of KILL_CASES.entries()) {
      victims.push(
        await startHubProcess({
          name: `victim-${i + 1}`,
          databaseUrl: db.url,
          netEndpoints: { 'net-1': net.url },
          kitSlots: SLOTS,
          pickupIntervalMs: 0,
          reconcileIntervalMs: 0,
          netLeaseMs: LEASE_MS,
        }),
      );
    }
  }, 5 * 60_000);

  afterAll(async () => {
    await killAllHubProcesses();
    await admin?.close();
    await net?.close();
    await pool?.end();
    await db?.drop();
  });

  it.each(KILL_CASES.map((c, i) => [c.label, i] as const))(
    'killed %s: lease expiry / sweep / reconcile on another instance recover it, per the recovery rule',
    async (label, index) => {
      const kill = KILL_CASES[index];
      const victim = victims[index];
      // the job under test first, then two more behind it (jobs flowing)
      const models = [await s.newModel(), await s.newModel(), await s.newModel()];
      const jobId = await s.queue(models[0]);
      for (const m of models.slice(1)) await s.queue(m);
      // after-submit: the orphan must not finish on its own (the sweep has to abort it); after-confirm: still running at the kill
      net.setAutoFinish(kill.at === 'after-submit' ? undefined : kill.at === 'after-confirm' ? 1500 : 100);
      armed = kill.at === 'after-confirm' ? null : { at: kill.at, victim };
      const cycle = victim.gql(RUN_PICKUP_CYCLE).catch(() => null);
      if (kill.at === 'after-confirm') {
        const result = await cycle;
        expect(result?.data?.runPickupCycle.started).toEqual([{ id: jobId }]);
        victim.kill('SIGKILL');
      }
      const exit = await victim.exited;
      const killedAt = exit.at;
      expect(exit.signal).toBe('SIGKILL');
      const left = await pool.query(`select status, start_phase as phase from job where id = $1`, [jobId]);
      expect(left.rows[0]).toEqual({ status: 'IN_PROGRESS', phase: kill.phase });

      net.setAutoFinish(100);
      // the victims' leases (LEASE_MS) are what recovery has to meet; the survivor's own starts keep theirs
      const survivor = await startTestHub(db.url, {
        netEndpoints: [{ name: 'net-1', endpoint: net.url }],
        kitSlots: SLOTS,
        netLeaseMs: NET_FAULT_LEASE_MS,
        netCallTimeoutMs: NET_FAULT_CALL_TIMEOUT_MS,
        pickupIntervalMs: 100,
        reconcileIntervalMs: 100,
        maxStartAttempts: kill.maxStartAttempts ?? 3,
      });
      // with the victim dead and the survivor still starting, no instance could recover anything: count from now
      const watch = new LeaseWatch(pool, LEASE_SLACK_MS, Date.now());
      try {
        const cleanAt = await waitUntilClean(pool, LEASE_MS * 4 + 15_000);
        await watch.stop();
        const jobs = await expectInvariants(pool, [net], models, {
          orphanAllowed: kill.at === 'after-submit' ? [models[0]] : [],
        });
        figures.push({
          fault: `a. hub SIGKILLed ${label}`,
          injectedMs: cleanAt - killedAt,
          outcome: outcome(jobs),
          maxLeaseOverdueMs: watch.maxOverdueMs,
        });
        expect(watch.stuck).toEqual([]);
        const job = jobs.find((j) => j.id === jobId)!;
        expect({ status: job.status, attempts: job.attempts, submits: net.submitCount(models[0]) }).toEqual({
          status: kill.expected.status,
          attempts: kill.expected.attempts,
          submits: kill.expected.submits,
        });
        if (kill.expected.modelStatus) expect(job.modelStatus).toBe(kill.expected.modelStatus);
        const runs = net.runs().filter((r) => r.modelId === models[0]);
        if (kill.expected.status === 'COMPLETED') expect(runs.filter((r) => r.status === 'FINISHED')).toHaveLength(1);
        if (kill.at === 'after-submit') expect(runs[0].status).toBe('STOPPED'); // the orphan, aborted by the sweep
        // the jobs behind it ran normally
        for (const other of jobs.filter((j) => j.id !== jobId)) expect(other).toMatchObject({ status: 'COMPLETED', attempts: 1 });
      } finally {
        await watch.stop();
        await survivor.close();
      }
    },
    60_000,
  );
});

// ---- b, c. one hub process through net faults and killed database sessions ----

describe('b, c. one hub process through net faults and killed database sessions (it is never restarted)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let nets: FakeNet[];
  let hub: HubProcess;
  let s: Scenario;
  /** b. late: replays a timed-out submit_job on net-1 once net-1's next run is submitted (the net did it late) */
  let lateReplay: { modelId: string | null; armed: boolean; runId: string | null } = { modelId: null, armed: false, runId: null };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = inspector(db.url);
    const net1: FakeNet = await startFakeNet({
      clients: SLOTS,
      autoFinishAfterMs: [50, 150],
      onRequest: (request) => {
        if (lateReplay.armed && request.call === 'submit_job' && request.headers['x-late-replay'] === undefined) {
          lateReplay = { modelId: decodeURIComponent(request.path.split('/').pop() ?? ''), armed: false, runId: null };
        }
      },
      onSubmit: (run) => {
        const late = lateReplay.modelId;
        if (late === null || run.modelId === late) return;
        lateReplay.modelId = null;
        // the net finally processes the submit the hub gave up on, just as it takes the next one
        void fetch(`${net1.url}/submit_job/${encodeURIComponent(late)}`, { method: 'POST', headers: { 'x-late-replay': '1' } })
          .then((response) => response.json())
          .then((runId) => (lateReplay.runId = runId as string));
      },
    });
    // net-2 is a Flower net (offline clients are logged, the start goes on)
    const net2 = await startFakeNet({ backend: 'flower', clients: SLOTS, autoFinishAfterMs: [50, 150] });
    nets = [net1, net2];
    hub = await startHubProcess({
      name: 'long-running',
      databaseUrl: db.url,
      netEndpoints: { 'net-1': net1.url, 'net-2': net2.url },
      kitSlots: SLOTS,
      pickupIntervalMs: 100,
      reconcileIntervalMs: 100,
      netLeaseMs: NET_FAULT_LEASE_MS,
      runMissingGraceMs: 500,
      netCallTimeoutMs: NET_FAULT_CALL_TIMEOUT_MS,
      // FLIP's fail-fast mode: each failed start removes its job (retries and waits: admission-faults.int-spec.ts)
      maxStartAttempts: 1,
      env: { ADMISSION_MAX_WAIT_MS: '0' },
    });
    await pool.query(`update net set fl_backend = 'flower' where name = 'net-2'`);
    s = await createScenario(hub, 2);
  }, 120_000);

  afterAll(async () => {
    await killAllHubProcesses();
    for (const net of nets ?? []) await net.close();
    await pool?.end();
    await db?.drop();
  });

  interface NetFault {
    label: string;
    inject(): Promise<void> | void;
    clear?(): Promise<void> | void;
    /** how long the fault lasts; default 1 s */
    holdMs?: number;
    /** waited for before the fault is injected (default: three runs submitted) */
    ready?: (submitsBefore: number) => boolean;
    options?: Parameters<typeof expectInvariants>[3];
  }

  /**
   * Queues 10 jobs, injects the fault once they flow, queues 4 more during it,
   * clears it, waits for a clean state and checks the invariants. The hub
   * process must be the same one, alive and answering, afterwards.
   */
  async function runNetFault(fault: NetFault): Promise<{ jobs: JobRow[]; injectedAt: number; clearedAt: number }> {
    const explain = () => liveTrail(pool, nets, () => hub.stdout() + hub.stderr());
    await waitUntilClean(pool, 10_000, explain);
    const models: string[] = [];
    for (let i = 0; i < 14; i++) models.push(await s.newModel());
    const submits = () => nets.reduce((n, net) => n + net.submitCount(), 0);
    const submitsBefore = submits();
    for (const m of models.slice(0, 10)) await s.queue(m);
    await until(() => (fault.ready ?? ((before) => submits() >= before + 3))(submitsBefore), { what: 'jobs flowing' });
    const watch = new LeaseWatch(pool);
    try {
      const injectedAt = Date.now();
      await fault.inject();
      for (const m of models.slice(10)) await s.queue(m);
      // clean may come while the fault lasts (every job there removed): watched from now on
      const firstClean = waitUntilClean(pool, (fault.holdMs ?? 1000) + 30_000, explain);
      firstClean.catch(() => undefined);
      await sleep(Math.max(0, injectedAt + (fault.holdMs ?? 1000) - Date.now()));
      const clearedAt = Date.now();
      await fault.clear?.();
      const cleanAt = await firstClean;
      await waitUntilClean(pool, 30_000, explain); // and still clean after the fault is gone
      await watch.stop();
      const jobs = await expectInvariants(pool, nets, models, { ...fault.options, hubLogs: () => hub.stdout() + hub.stderr() });
      figures.push({
        fault: `b. ${fault.label}`,
        injectedMs: cleanAt - injectedAt,
        clearedMs: fault.clear ? cleanAt - clearedAt : undefined,
        outcome: outcome(jobs),
        maxLeaseOverdueMs: watch.maxOverdueMs,
      });
      expect(watch.stuck).toEqual([]);
      // recovered without a restart: the same process answers
      expect(hub.alive()).toBe(true);
      expect((await hub.gqlOk<{ nets: Array<{ name: string }> }>('{ nets { name } }')).nets).toHaveLength(2);
      return { jobs, injectedAt, clearedAt };
    } finally {
      await watch.stop();
    }
  }

  const net1 = () => nets[0];

  it('b. net-1 answers 5xx to every call for 1 s: starts there fail cleanly (job removed, model ERROR), its runs are reconciled once it answers again', async () => {
    const { jobs, injectedAt, clearedAt } = await runNetFault({
      label: 'net-1 answers 503 to every call (1 s)',
      inject: () => ALL_CALLS.forEach((call) => net1().fail(call, { status: 503 })),
      clear: () => net1().clearFaults(),
    });
    // (net-1 mostly stays BUSY through the fault: the end of its run cannot be seen while list_jobs fails)
    for (const job of jobs.filter((j) => j.status === 'DELETED'))
      expect(job).toMatchObject({ net: 'net-1', modelStatus: 'ERROR' });
    const during = net1().requests.filter((r) => r.at.getTime() >= injectedAt && r.at.getTime() < clearedAt);
    expect(during.length).toBeGreaterThan(0); // the fault was met
  }, 60_000);

  it('b. net-1 answers 503 to check_client_status and upload_app for 1 s: its starts fail, the net is freed at once', async () => {
    const { jobs } = await runNetFault({
      label: 'net-1 answers 503 to check_client_status, upload_app (1 s)',
      inject: () => (['check_client_status', 'upload_app'] as const).forEach((call) => net1().fail(call, { status: 503 })),
      clear: () => net1().clearFaults(),
    });
    const deleted = jobs.filter((j) => j.status === 'DELETED');
    expect(deleted.length).toBeGreaterThan(0);
    for (const job of deleted) expect(job).toMatchObject({ net: 'net-1', modelStatus: 'ERROR', backendJobId: null });
  }, 60_000);

  it('b. net-1 answers 500 to submit_job for 1 s: the net is swept at once and freed', async () => {
    const { jobs, injectedAt } = await runNetFault({
      label: 'net-1 answers 500 to submit_job (1 s)',
      inject: () => net1().fail('submit_job', { status: 500 }),
      clear: () => net1().clearFaults(),
    });
    const deleted = jobs.filter((j) => j.status === 'DELETED');
    expect(deleted.length).toBeGreaterThan(0);
    for (const job of deleted) expect(job).toMatchObject({ net: 'net-1', modelStatus: 'ERROR' });
    // the sweep looked at the net before freeing it
    expect(
      net1()
        .requestsTo('list_jobs')
        .some((r) => r.at.getTime() > injectedAt),
    ).toBe(true);
  }, 60_000);

  it('b. net-1 stops answering (every call hangs past NET_CALL_TIMEOUT_MS) for 1 s', async () => {
    const { jobs } = await runNetFault({
      label: 'net-1 hangs on every call (timeouts, 1 s)',
      inject: () => ALL_CALLS.forEach((call) => net1().fail(call, { hang: true })),
      clear: () => net1().clearFaults(),
    });
    for (const job of jobs.filter((j) => j.status === 'DELETED'))
      expect(job).toMatchObject({ net: 'net-1', modelStatus: 'ERROR' });
  }, 60_000);

  it('b. net-1 refuses connections for 1 s (down, its runs kept)', async () => {
    const { jobs } = await runNetFault({
      label: 'net-1 refuses connections (1 s)',
      inject: () => net1().stop(),
      clear: () => net1().restart(),
    });
    for (const job of jobs.filter((j) => j.status === 'DELETED'))
      expect(job).toMatchObject({ net: 'net-1', modelStatus: 'ERROR' });
  }, 60_000);

  it('b. net-1 restarts and loses its runs: after RUN_MISSING_GRACE_MS the runs count as failed and the net is freed', async () => {
    let lost: string[] = [];
    net1().setAutoFinish([400, 600]); // long enough to be running at the restart
    try {
      const { jobs } = await runNetFault({
        label: 'net-1 restarts, loses its runs (grace 500 ms)',
        ready: () => net1().activeRuns().length > 0,
        inject: async () => {
          lost = net1()
            .activeRuns()
            .map((r) => r.job_id);
          await net1().stop();
          net1().forgetRuns();
          await sleep(200);
          await net1().restart();
        },
        holdMs: 0,
      });
      expect(lost.length).toBeGreaterThan(0);
      for (const runId of lost) {
        // the job whose run was lost: ended (DELETED, endReason RUN_FAILED), its model ERROR
        expect(jobs.find((j) => j.backendJobId === runId)).toMatchObject({
          status: 'DELETED',
          endReason: 'RUN_FAILED',
          modelStatus: 'ERROR',
        });
      }
    } finally {
      net1().setAutoFinish([50, 150]);
    }
  }, 60_000);

  it('b. a client goes offline on both nets for 1 s: starts on the NVFLARE net fail, the Flower net goes on', async () => {
    const { jobs } = await runNetFault({
      label: 'client site-2 offline on both nets (1 s)',
      inject: () => nets.forEach((net) => net.setClients(['site-1', 'site-3'], ['site-2'])),
      clear: () => nets.forEach((net) => net.setClients(SLOTS)),
    });
    const deleted = jobs.filter((j) => j.status === 'DELETED');
    // NVFLARE refuses offline clients; Flower (net-2) never does
    for (const job of deleted) expect(job).toMatchObject({ net: 'net-1', modelStatus: 'ERROR' });
    expect(deleted.length).toBeGreaterThan(0);
  }, 60_000);

  it('c. PostgreSQL sessions of the hub killed (pg_terminate_backend) every 150 ms while jobs are dispatched: the hub keeps working, every job completes', async () => {
    await waitUntilClean(pool, 10_000);
    const models: string[] = [];
    for (let i = 0; i < 16; i++) models.push(await s.newModel());
    for (const m of models) await s.queue(m);
    const watch = new LeaseWatch(pool);
    let killed = 0;
    let lastKill = 0;
    const firstKill = Date.now();
    try {
      for (let round = 0; round < 12; round++) {
        const { rows } = await pool.query<{ n: number }>(
          `select count(*)::int as n from (
             select pg_terminate_backend(pid) from pg_stat_activity
              where datname = current_database() and pid <> pg_backend_pid() and application_name <> $1) t`,
          [INSPECTOR],
        );
        killed += rows[0].n;
        lastKill = Date.now();
        await sleep(150);
      }
      expect(killed).toBeGreaterThan(0);
      // the same process answers (its pool replaced the dead sessions; one may be handed out once: retry as a client would)
      const answered = await until(
        async () => {
          const response = await hub.gql<{ nets: unknown[] }>('{ nets { name } }');
          return response.errors ? null : response.data;
        },
        { what: 'the hub answering again', intervalMs: 100 },
      );
      expect(answered?.nets).toHaveLength(2);
      const cleanAt = await waitUntilClean(pool, 30_000);
      await watch.stop();
      const jobs = await expectInvariants(pool, nets, models);
      figures.push({
        fault: `c. pg_terminate_backend ×12 (${killed} sessions) mid-dispatch`,
        injectedMs: cleanAt - firstKill,
        clearedMs: cleanAt - lastKill,
        outcome: outcome(jobs),
        maxLeaseOverdueMs: watch.maxOverdueMs,
      });
      expect(watch.stuck).toEqual([]);
      expect(jobs.map((j) => j.status)).toEqual(models.map(() => 'COMPLETED'));
      expect(hub.alive()).toBe(true);
    } finally {
      await watch.stop();
    }
  }, 60_000);

  // last: the net itself runs two at once here, which the later checks of this net would count
  it('b. submit_job times out on net-1 but the net creates the run late (after the hub gave up and swept): that orphan is aborted, nothing is left running', async () => {
    net1().setAutoFinish([400, 500]); // the orphan would run this long unless the hub aborts it
    // net-1 alone takes jobs: the late run comes with net-1's next job after the sweep, and net-2 would have
    // emptied the queue while net-1 waited out its call timeout
    const { nets: named } = await hub.gqlOk<{ nets: Array<{ id: string; name: string }> }>('{ nets { id name } }');
    const net2Id = named.find((n) => n.name === 'net-2')!.id;
    await hub.gqlOk('mutation($id: ID!) { drainNet(netId: $id) { id } }', { id: net2Id });
    try {
      await runNetFault({
        label: 'net-1 submit_job times out, the net creates the run late',
        inject: () => {
          lateReplay = { modelId: null, armed: true, runId: null };
          net1().fail('submit_job', { hang: true, times: 1 });
        },
        clear: () => {
          lateReplay.armed = false;
        },
        holdMs: 2500,
        // the late run overlaps the next one by the net's own doing; the hub must abort it (checked below)
        options: { overlapAllowed: true },
      });
    } finally {
      net1().setAutoFinish([50, 150]);
      await hub.gqlOk('mutation($id: ID!) { resumeNet(netId: $id) { id } }', { id: net2Id });
    }
    expect(lateReplay.runId).not.toBeNull(); // the fault was met
    const orphan = net1()
      .runs()
      .find((r) => r.job_id === lateReplay.runId);
    expect(orphan?.status).toBe('STOPPED');
  }, 60_000);
});

// ---- d. PostgreSQL restarted ----

describe('d. PostgreSQL restarted while a hub process runs', () => {
  const dataDir = `.data/fault-pg-${process.pid}`;
  let cluster: EmbeddedPostgresHandle | null = null;
  let port: number;
  let pool: pg.Pool;
  let nets: FakeNet[] = [];
  let hub: HubProcess;
  let s: Scenario;

  beforeAll(async () => {
    cluster = await startEmbeddedPostgres({ dataDir, port: 0, ephemeral: true });
    // the handle does not say which port it picked; its URL does (a restart must reuse it)
    port = Number(new URL(cluster.adminUrl).port);
    await ensureDatabase(cluster.adminUrl, 'fl_fault');
    nets = [
      await startFakeNet({ clients: SLOTS, autoFinishAfterMs: [50, 150] }),
      await startFakeNet({ clients: SLOTS, autoFinishAfterMs: [50, 150] }),
    ];
    // the hub migrates the empty database at start-up
    hub = await startHubProcess({
      name: 'pg-restart',
      databaseUrl: cluster.urlFor('fl_fault'),
      netEndpoints: { 'net-1': nets[0].url, 'net-2': nets[1].url },
      kitSlots: SLOTS,
      pickupIntervalMs: 100,
      reconcileIntervalMs: 100,
      netLeaseMs: LEASE_MS,
      netCallTimeoutMs: 2000,
    });
    pool = inspector(cluster.urlFor('fl_fault'));
    s = await createScenario(hub, 2);
  }, 120_000);

  afterAll(async () => {
    await killAllHubProcesses();
    await pool?.end().catch(() => undefined);
    for (const net of nets) await net.close();
    await cluster?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('PostgreSQL down ~2 s and started again: the hub answers cleanly meanwhile, recovers without a restart, every job completes', async () => {
    const migrated = await pool.query<{ n: number }>(`select count(*)::int as n from scheduler`);
    expect(migrated.rows[0].n).toBe(2);
    const models: string[] = [];
    for (let i = 0; i < 12; i++) models.push(await s.newModel());
    for (const m of models.slice(0, 8)) await s.queue(m);
    await until(() => nets[0].submitCount() + nets[1].submitCount() >= 2, { what: 'jobs flowing' });

    // after the restart, a start in flight may still wait out its phase-write retry backoff (steps up to 1 s)
    // before the cycle, which also recovers leases, runs again: that much slack more
    const watch = new LeaseWatch(pool, LEASE_SLACK_MS + 1600);
    const downAt = Date.now();
    await cluster!.stop();
    const stoppedAt = Date.now();
    // while the database is away: health says so, GraphQL fails with an error, the process lives
    const health = await fetch(`${hub.url}/health`).then((r) => r.status);
    const during = await hub.gql('{ nets { name } }');
    expect(health).toBe(503);
    expect(during.errors?.length).toBeGreaterThan(0);
    await sleep(Math.max(0, downAt + 2000 - Date.now()));
    watch.notBefore = Date.now(); // leases that ran out while the database was away count from its return
    cluster = await startEmbeddedPostgres({ dataDir, port, ephemeral: true });
    const upAt = Date.now();
    expect(hub.alive()).toBe(true);

    let failedCalls = 0;
    for (const m of models.slice(8)) {
      // a pool may hand out a dead session once: retry as a client would
      for (let attempt = 0; ; attempt++) {
        const response = await hub.gql('mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }', {
          m,
          t: s.trustIds,
        });
        if (!response.errors) break;
        failedCalls += 1;
        if (attempt > 30) throw new Error(JSON.stringify(response.errors));
        await sleep(100);
      }
    }
    try {
      const cleanAt = await waitUntilClean(pool, 30_000);
      await watch.stop();
      const jobs = await expectInvariants(pool, nets, models, { hubLogs: () => hub.stdout() + hub.stderr() });
      figures.push({
        fault: `d. PostgreSQL stopped (${stoppedAt - downAt} ms to stop), down ${upAt - downAt} ms, restarted`,
        injectedMs: cleanAt - downAt,
        clearedMs: cleanAt - upAt,
        outcome: `${outcome(jobs)}; ${failedCalls} client retries after the restart`,
        maxLeaseOverdueMs: watch.maxOverdueMs,
        leaseNote: 'from the restart',
      });
      expect(watch.stuck).toEqual([]);
      expect(jobs.map((j) => j.status)).toEqual(models.map(() => 'COMPLETED'));
      expect(hub.alive()).toBe(true);
      expect(await fetch(`${hub.url}/health`).then((r) => r.status)).toBe(200);
    } finally {
      await watch.stop();
    }
  }, 90_000);
});
