import { beforeAll, describe, expect, it } from '@jest/globals';
import type { TestHub } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';
import { sleep, until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2'];

const HOLD = 'mutation($t: ID!, $until: DateTime) { holdTrust(trustId: $t, until: $until) { id onHold } }';
const RELEASE = 'mutation($t: ID!) { releaseTrust(trustId: $t) { id } }';
const SET_TRUST_LIMIT = 'mutation($t: ID!, $max: Int) { setTrustLimit(trustId: $t, maxConcurrentJobs: $max) { id } }';
const SET_PROJECT_LIMITS = 'mutation($p: ID!, $max: Int) { setProjectLimits(projectId: $p, maxConcurrentJobs: $max) { id } }';

/**
 * Holds and limits with automatic pickup: a change that lets a waiting job start starts it without a
 * manual cycle, and a timed hold's end does too. Hub A picks up (its interval tick, a minute, never
 * comes during a test: only a wake-up or a change can start a job); hub B never picks up on its own.
 */
describe('held and capped jobs start by themselves once they may', () => {
  const f = useNetHub({
    nets: [{ name: 'net-1' }],
    kitSlots: SLOTS,
    hub: { pickupIntervalMs: 60_000 },
  });
  let other: TestHub;

  beforeAll(async () => {
    other = await f.startHub({ pickupIntervalMs: 0 });
  });

  const job = async (id: string) =>
    (
      await f.db.pool.query<{
        status: string;
        running: boolean;
        startedAt: Date | null;
      }>(`select status, start_phase = 'RUNNING' as running, started_at as "startedAt" from job where id = $1`, [id])
    ).rows[0];
  const runs = (id: string) => until(async () => (await job(id)).running, { what: 'the job runs' });
  const finish = (modelId: string) =>
    f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', {
      m: modelId,
    });
  /** queued, and given time for a wrong dispatch: A would start it now, were it free to start */
  const queueAndSeeItWait = async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    await sleep(500);
    expect(await job(jobId)).toMatchObject({ status: 'QUEUED' });
    expect(f.net.submitCount(modelId)).toBe(0);
    return { modelId, jobId };
  };

  async function timedHold(via: TestHub): Promise<void> {
    const ends = new Date(Date.now() + 1_500);
    expect((await via.gqlOk(HOLD, { t: f.s.trustIds[0], until: ends.toISOString() })).holdTrust.onHold).toBe(true);
    const { modelId, jobId } = await queueAndSeeItWait();
    await runs(jobId);
    expect((await job(jobId)).startedAt!.getTime()).toBeGreaterThanOrEqual(ends.getTime()); // not before the hold's end
    expect(f.net.submitCount(modelId)).toBe(1);
    await finish(modelId);
    await f.hub.gqlOk(RELEASE, { t: f.s.trustIds[0] });
  }

  it('a timed hold set on this instance: the job starts when it ends', () => timedHold(f.hub));

  it('a timed hold set on another instance (heard through the change notifications)', () => timedHold(other));

  it('releaseTrust on another instance: the held job starts at once', async () => {
    await other.gqlOk(HOLD, { t: f.s.trustIds[1] });
    const { modelId, jobId } = await queueAndSeeItWait();
    await other.gqlOk(RELEASE, { t: f.s.trustIds[1] });
    await runs(jobId);
    await finish(modelId);
  });

  it('a trust limit removed on another instance: the capped job starts at once', async () => {
    await other.gqlOk(SET_TRUST_LIMIT, { t: f.s.trustIds[0], max: 0 });
    const { modelId, jobId } = await queueAndSeeItWait();
    await other.gqlOk(SET_TRUST_LIMIT, { t: f.s.trustIds[0], max: null });
    await runs(jobId);
    await finish(modelId);
  });

  it('a project limit raised on another instance: the capped job starts at once', async () => {
    await other.gqlOk(SET_PROJECT_LIMITS, { p: f.s.projectId, max: 0 });
    const { modelId, jobId } = await queueAndSeeItWait();
    await other.gqlOk(SET_PROJECT_LIMITS, { p: f.s.projectId, max: 1 });
    await runs(jobId);
    await finish(modelId);
    await other.gqlOk(SET_PROJECT_LIMITS, { p: f.s.projectId, max: null });
  });
});
