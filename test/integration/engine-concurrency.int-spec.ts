import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeNet, type FakeNet, type Run } from '../support/fake-net.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario } from '../support/scenario.js';
import { trailOf } from '../support/trail.js';
import { sleep, until } from '../support/wait.js';

const HUBS = 3;
const NETS = 4;
const JOBS = 100;
const SLOTS = ['site-1', 'site-2'];

/**
 * Several hub instances on one database, the test acting as the nets: each
 * run is finished after a short random delay and reported with
 * completeTraining to a random instance. Nothing may be dispatched twice,
 * overlap on a net, get lost, or leave a net BUSY.
 */
describe(`${HUBS} hub instances, ${NETS} nets, ${JOBS} jobs`, () => {
  let db: TestDatabase;
  const hubs: TestHub[] = [];
  const nets: FakeNet[] = [];
  const completions: Array<Promise<unknown>> = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const finishLater = (net: FakeNet) => (run: Run) => {
      const delay = 5 + Math.random() * 25;
      completions.push(
        sleep(delay).then(async () => {
          net.setRunStatus(run.job_id, 'FINISHED');
          const hub = hubs[Math.floor(Math.random() * hubs.length)];
          await hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: run.modelId });
        }),
      );
    };
    for (let i = 0; i < NETS; i++) {
      const net: FakeNet = await startFakeNet({ clients: SLOTS, onSubmit: (run) => finishLater(net)(run) });
      nets.push(net);
    }
    const netEndpoints = nets.map((net, i) => ({ name: `net-${i + 1}`, endpoint: net.url }));
    for (let i = 0; i < HUBS; i++) {
      hubs.push(await startTestHub(db.url, { netEndpoints, kitSlots: SLOTS, pickupIntervalMs: 50, reconcileIntervalMs: 0 }));
    }
  });

  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.close()));
    await Promise.all(nets.map((net) => net.close()));
    await db?.drop();
  });

  it('runs every job exactly once, never two at a time on a net, and ends with every net free', async () => {
    const s = await createScenario(hubs[0], 2);
    const models: string[] = [];
    for (let i = 0; i < JOBS; i++) models.push(await s.newModel(`concurrent-${i}`));
    // queue through all instances at once
    await Promise.all(
      models.map(async (modelId, i) => {
        const hub = hubs[i % HUBS];
        await hub.gqlOk('mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }', {
          m: modelId,
          t: s.trustIds,
        });
      }),
    );

    const jobCounts = async () =>
      Object.fromEntries(
        (
          await db.pool.query<{ status: string; n: number }>('select status, count(*)::int as n from job group by status')
        ).rows.map((r) => [r.status, r.n]),
      ) as Record<string, number>;
    // a bound on a hang, generous for a loaded machine
    await until(async () => (await jobCounts()).COMPLETED === JOBS, {
      what: `${JOBS} jobs COMPLETED`,
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    await Promise.all(completions);
    const counts = await jobCounts();

    expect(counts).toEqual({ COMPLETED: JOBS });
    // every job submitted exactly once, across all nets; a model submitted otherwise says what happened to it
    const submits = (modelId: string) => nets.reduce((sum, net) => sum + net.submitCount(modelId), 0);
    const submittedOtherwise = models.filter((m) => submits(m) !== 1);
    const problems = submittedOtherwise.map((m) => `model ${m}: ${submits(m)} submit_job calls`);
    if (problems.length > 0) {
      const { rows } = await db.pool.query<{ id: string; modelId: string }>(
        `select id, model_id as "modelId" from job where model_id = any($1::uuid[])`,
        [submittedOtherwise],
      );
      problems.push(...(await trailOf(db.pool, nets, rows)));
    }
    expect(problems).toEqual([]);
    // never two runs at once on a net (the net's own watermark, and the database's intervals)
    for (const net of nets) expect(net.maxConcurrentActiveRuns).toBeLessThanOrEqual(1);
    const overlaps = await db.pool.query(
      `select a.id from job a join job b on a.net_id = b.net_id and a.id < b.id
       where tstzrange(a.started_at, a.completed_at) && tstzrange(b.started_at, b.completed_at)`,
    );
    expect(overlaps.rows).toEqual([]);
    // every net free, and the work spread over all of them
    const schedulers = await db.pool.query('select status, job_id, lease_until from scheduler');
    expect(schedulers.rows).toEqual(
      Array.from({ length: NETS }, () => ({ status: 'AVAILABLE', job_id: null, lease_until: null })),
    );
    for (const net of nets) expect(net.submitCount()).toBeGreaterThan(0);
  }, 180_000);
});
