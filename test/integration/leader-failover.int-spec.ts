import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { killAllHubProcesses, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { useNetHub } from '../support/net-hub.js';
import { until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2'];
const FOLLOWER_DELAY_MS = 600;

async function health(hub: HubProcess): Promise<{ leader: boolean; instance: string }> {
  const response = await fetch(`${hub.url}/health`);
  const body = (await response.json()) as { info: { dispatch: { leader: boolean; instance: string } } };
  return body.info.dispatch;
}

/**
 * The dispatch leader is a hub PROCESS SIGKILLed (no shutdown, no hand-over):
 * its lock goes with its database session, the surviving instance takes the
 * lead at its next look (every PICKUP_FOLLOWER_DELAY_MS) and from then on
 * dispatches at once. Nothing is lost. Each start is told apart by the
 * instance that claimed it (`job.claimed_by`), not by how long it took.
 */
describe('the dispatch leader SIGKILLed: another instance takes over', () => {
  /** setup and inspection only (no automatic pickup: it never leads) */
  const f = useNetHub({ nets: [{ name: 'net-1', autoFinishAfterMs: 50 }], kitSlots: SLOTS });
  let hubs: HubProcess[] = [];

  /** Waits until the job has started on the net; answers the instance that claimed it. */
  async function startedBy(jobId: string): Promise<string | null> {
    const row = await until(
      async () =>
        (
          await f.db.pool.query<{ backend_job_id: string | null; claimed_by: string | null }>(
            'select backend_job_id, claimed_by from job where id = $1',
            [jobId],
          )
        ).rows.find((r) => r.backend_job_id),
      { what: `job ${jobId} started` },
    );
    return row.claimed_by;
  }
  /** the net is free again (the last run finished and was reconciled) */
  const netFree = () =>
    until(async () => (await f.db.pool.query(`select 1 from scheduler where status = 'AVAILABLE'`)).rowCount, {
      what: 'the net free again',
    });

  beforeAll(async () => {
    hubs = await Promise.all(
      ['p1', 'p2'].map((name) =>
        startHubProcess({
          name,
          databaseUrl: f.db.url,
          netEndpoints: { 'net-1': f.net.url },
          kitSlots: SLOTS,
          pickupIntervalMs: 600_000, // events only: the interval never fires during the test
          reconcileIntervalMs: 200,
          env: { PICKUP_FOLLOWER_DELAY_MS: String(FOLLOWER_DELAY_MS) },
        }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await killAllHubProcesses();
  });

  it('the survivor takes the lead on its looks and dispatches at once; every job completes', async () => {
    const states = await Promise.all(hubs.map(health));
    expect(states.filter((state) => state.leader)).toHaveLength(1);
    const leaderState = states.find((state) => state.leader)!;
    const leader = hubs[states.indexOf(leaderState)];
    const survivor = hubs.find((hub) => hub !== leader) as HubProcess;
    const survivorName = states[hubs.indexOf(survivor)].instance;

    const before = await f.s.queue(await f.s.newModel());
    expect(await startedBy(before)).toBe(leaderState.instance); // the leader, on the event

    leader.kill('SIGKILL');
    await leader.exited;
    // the lock went with the dead session: the survivor takes the lead at a look (its interval is ten minutes)
    await until(async () => (await health(survivor)).leader, { what: 'the survivor leads' });
    await netFree(); // the run of `before` is reconciled as FINISHED by the survivor

    const { queueTraining } = await survivor.gqlOk<{ queueTraining: { id: string } }>(
      'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }',
      { m: await f.s.newModel(), t: f.s.trustIds },
    );
    expect(await startedBy(queueTraining.id)).toBe(survivorName); // the new leader

    await netFree(); // that run finishes and is reconciled
    const next = await f.s.queue(await f.s.newModel());
    expect(await startedBy(next)).toBe(survivorName); // the new leader, on the event

    // nothing lost: every job COMPLETED, submitted once, the net free
    await until(
      async () => {
        const { rows } = await f.db.pool.query<{ status: string }>('select status, count(*)::int as n from job group by status');
        return rows.length === 1 && rows[0].status === 'COMPLETED';
      },
      { what: 'every job COMPLETED' },
    );
    expect(f.net.submitCount()).toBe(3);
    const { rows } = await f.db.pool.query<{ status: string }>('select status from scheduler');
    expect(rows.map((r) => r.status)).toEqual(['AVAILABLE']);
  });
});
