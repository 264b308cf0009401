import { afterAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import type pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/database/embedded-postgres.js';
import { ensureDatabase } from '../../src/database/ensure-database.js';
import { testPool } from '../support/database.js';
import { startFakeNet, type FakeNet } from '../support/fake-net.js';
import { killAllHubProcesses, startHubProcess } from '../support/hub-process.js';
import { useNetHubProcess } from '../support/net-hub-process.js';
import { createScenario } from '../support/scenario.js';
import { sleep, until } from '../support/wait.js';

/**
 * The admission's waits live in the database: a hub process killed while a
 * job waits out its backoff, or PostgreSQL restarted meanwhile, loses
 * nothing and counts no attempt twice.
 */
const SLOTS = ['site-1', 'site-2'];
const BACKOFF_MS = 1500;

const HUB = {
  pickupIntervalMs: 60_000, // only the wake-up at the backoff's end (and the start-up tick) drives the pickup
  netCallTimeoutMs: 2000,
  maxStartAttempts: 3,
  env: { ADMISSION_BACKOFF_MS: String(BACKOFF_MS), ADMISSION_BACKOFF_MAX_MS: String(BACKOFF_MS) },
};
const hubOptions = (name: string, databaseUrl: string, net: FakeNet) => ({
  ...HUB,
  name,
  databaseUrl,
  netEndpoints: { 'net-1': net.url },
  kitSlots: SLOTS,
});

async function attempts(pool: pg.Pool, jobId: string) {
  const { rows } = await pool.query<{ outcome: string; status: string; failed_starts: number }>(
    `select a.outcome, j.status, j.failed_starts from start_attempt a join job j on j.id = a.job_id
     where a.job_id = $1 order by a.seq`,
    [jobId],
  );
  return rows;
}

afterAll(async () => {
  await killAllHubProcesses();
});

describe('admission faults: a hub process killed', () => {
  const f = useNetHubProcess({ name: 'admission-first', kitSlots: SLOTS, hub: HUB });

  it('the hub killed while a job waits out its backoff: a second hub process starts it after the backoff, no attempt counted twice', async () => {
    f.net.fail('upload_app', { status: 503, times: 1 });
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    await until(async () => (await attempts(f.db.pool, jobId)).length === 1, {
      what: 'the failed start is recorded',
      timeoutMs: 30_000,
    });
    expect(await attempts(f.db.pool, jobId)).toEqual([{ outcome: 'NET_ERROR', status: 'QUEUED', failed_starts: 1 }]);
    f.hub.kill('SIGKILL');
    await f.hub.exited;

    const second = await startHubProcess(hubOptions('admission-second', f.db.url, f.net));
    await until(async () => (await attempts(f.db.pool, jobId)).at(-1)?.outcome === 'STARTED', {
      what: 'started by the second hub',
      timeoutMs: 30_000,
    });
    expect(await attempts(f.db.pool, jobId)).toEqual([
      { outcome: 'NET_ERROR', status: 'IN_PROGRESS', failed_starts: 1 },
      { outcome: 'STARTED', status: 'IN_PROGRESS', failed_starts: 1 },
    ]);
    expect(f.net.submitCount(modelId)).toBe(1);
    // the net had failed a call: the second hub probed it before it gave it the job
    expect(f.net.requestsTo('check_server_status').length).toBeGreaterThan(0);
    expect(second.alive()).toBe(true);
  }, 120_000);
});

/** Its own PostgreSQL cluster, to stop and start again: not the tests' shared server. */
describe('admission faults: PostgreSQL restarted', () => {
  let net: FakeNet | null = null;

  it('PostgreSQL restarted while a job waits out its backoff: nothing is lost, the job starts after it, one attempt each', async () => {
    const dataDir = `.data/admission-pg-${process.pid}`;
    let cluster: EmbeddedPostgresHandle | null = await startEmbeddedPostgres({ dataDir, port: 0, ephemeral: true });
    const port = Number(new URL(cluster.adminUrl).port);
    await ensureDatabase(cluster.adminUrl, 'fl_admission');
    const pool = testPool({ connectionString: cluster.urlFor('fl_admission'), max: 2 });
    try {
      net = await startFakeNet({ clients: SLOTS });
      const hub = await startHubProcess({
        ...hubOptions('admission-pg', cluster.urlFor('fl_admission'), net),
        logLevel: 'info',
        env: { ADMISSION_BACKOFF_MS: '4000', ADMISSION_BACKOFF_MAX_MS: '4000' },
      });
      const s = await createScenario(hub, 2);
      net.fail('submit_job', { status: 500, times: 1 });
      const modelId = await s.newModel();
      const jobId = await s.queue(modelId);
      await until(async () => (await attempts(pool, jobId)).length === 1, {
        what: 'the failed start is recorded',
        timeoutMs: 30_000,
      });

      await cluster.stop();
      await sleep(1500);
      cluster = await startEmbeddedPostgres({ dataDir, port, ephemeral: true });
      expect(hub.alive()).toBe(true);

      try {
        // the database may be away for a moment: a failed read is "not yet"
        const started = () =>
          attempts(pool, jobId).then(
            (rows) => rows.at(-1)?.outcome === 'STARTED',
            () => false,
          );
        await until(started, { what: 'started after the restart', timeoutMs: 40_000 });
      } catch (error) {
        const state = await pool.query(
          'select j.status, j.retry_at, n.failed_calls, n.retry_at as net_retry_at, s.status as net_status from job j, net n join scheduler s on s.net_id = n.id',
        );
        throw new Error(`${String(error)}\n${JSON.stringify(state.rows)}\n${hub.output().slice(-4000)}`, { cause: error });
      }
      expect((await attempts(pool, jobId)).map((a) => a.outcome)).toEqual(['NET_ERROR', 'STARTED']);
      // one run: the failed submit made none, the retry one
      expect(net.submitCount(modelId)).toBe(1);
      const job = await hub.gqlOk<{ job: { status: string; endReason: string | null } }>(
        'query($id: ID!) { job(id: $id) { status endReason } }',
        { id: jobId },
      );
      expect(job.job).toEqual({ status: 'IN_PROGRESS', endReason: null });
    } finally {
      await killAllHubProcesses();
      await net?.close();
      await pool.end().catch(() => undefined);
      await cluster?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
