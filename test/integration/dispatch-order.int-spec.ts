import { afterEach, describe, expect, it } from '@jest/globals';
import { useNetHub, type NetHub } from '../support/net-hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

/**
 * The dispatch order and the limits (SPEC.md "Version 2": Order, Limits), against fake nets on real
 * PostgreSQL: what `queuePosition` and `pendingReason` say before a cycle is what the cycle does.
 */

const SLOTS = Array.from({ length: 24 }, (_, i) => `site-${i + 1}`);
const CYCLE = 'mutation { runPickupCycle { started { id } failed { id } } }';
const QUEUE = `mutation($m: ID!, $t: [ID!]!, $o: QueueOptions) { queueTraining(modelId: $m, trustIds: $t, options: $o) { id } }`;
const QUEUE_VIEW = '{ jobs(status: QUEUED) { id queuePosition pendingReason pendingDetail } }';

interface Queued {
  id: string;
  queuePosition: number;
  pendingReason: string;
  pendingDetail: string | null;
}

/** What both fixtures ask of their hub: queue a job, read the queue in dispatch order, run a cycle. */
function queueing(f: NetHub) {
  return {
    /** A job of a new model of `s` naming `trustIds`, queued through GraphQL with `options`. */
    queue: async (s: Scenario, options: Record<string, unknown> = {}, trustIds = s.trustIds) =>
      (
        await f.hub.gqlOk<{ queueTraining: { id: string } }>(QUEUE, {
          m: await s.newModel(undefined, s.trustIds),
          t: trustIds,
          o: options,
        })
      ).queueTraining.id,
    /** The queue as the hub reports it, in dispatch order. */
    queueView: async (): Promise<Queued[]> =>
      (await f.hub.gqlOk<{ jobs: Queued[] }>(QUEUE_VIEW)).jobs.sort((a, b) => a.queuePosition - b.queuePosition),
    /** The jobs one pickup cycle started. */
    cycle: async () =>
      (await f.hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(CYCLE)).runPickupCycle.started.map((j) => j.id),
  };
}

describe('dispatch order: priority with aging, fair share, age', () => {
  const f = useNetHub({ nets: [{ name: 'net-1' }, { name: 'net-2' }, { name: 'net-3' }], kitSlots: SLOTS, trusts: 2 });
  afterEach(() => f.reset());

  const { queue, queueView, cycle } = queueing(f);

  /** Keeps only `n` nets free: the others drained. */
  const freeNets = async (n: number) => {
    const names = ['net-1', 'net-2', 'net-3'];
    await f.db.pool.query(`update net set drained = not (name = any($1))`, [names.slice(0, n)]);
  };

  const complete = async (jobIds: string[]) => {
    const { rows } = await f.db.pool.query<{ modelId: string }>(
      `select model_id as "modelId" from job where id = any($1) and status = 'IN_PROGRESS'`,
      [jobIds],
    );
    for (const { modelId } of rows)
      await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
  };

  afterEach(() => f.db.pool.query(`update net set drained = false`));

  it('higher priority first; a job that waited PRIORITY_AGING_MS per class rises; the positions are the order nets take jobs', async () => {
    const normal = await queue(f.s, { priority: 'NORMAL' });
    const low = await queue(f.s, { priority: 'LOW' });
    const high = await queue(f.s, { priority: 'HIGH' });
    const urgent = await queue(f.s, { priority: 'URGENT' });
    expect((await queueView()).map((j) => j.id)).toEqual([urgent, high, normal, low]);

    // LOW queued 2.5 aging periods ago: raised two classes, to HIGH, and older than the HIGH job
    await f.db.pool.query(`update job set created_at = now() - interval '150 minutes' where id = $1`, [low]);
    const view = await queueView();
    expect(view.map((j) => [j.id, j.queuePosition, j.pendingReason])).toEqual([
      [urgent, 1, 'WAITING_FOR_NET'],
      [low, 2, 'WAITING_FOR_NET'],
      [high, 3, 'WAITING_FOR_NET'],
      [normal, 4, 'WAITING_FOR_NET'],
    ]);

    await freeNets(1);
    const taken: string[] = [];
    for (let round = 0; round < 4; round++) {
      const next = (await queueView())[0].id;
      const started = await cycle();
      expect(started).toEqual([next]);
      taken.push(...started);
      await complete(started);
    }
    expect(taken).toEqual([urgent, low, high, normal]);
  });

  it('fair share: a project of share 2 gets two jobs for each of a share-1 project, counting its running jobs', async () => {
    const a = await createScenario(f.hub, 2);
    const b = await createScenario(f.hub, 2);
    await f.db.pool.query(`update project set share = 2 where id = $1`, [a.projectId]);
    const aJobs = [await queue(a), await queue(a), await queue(a), await queue(a)];
    const bJobs = [await queue(b), await queue(b), await queue(b)];
    // keys (running + ranked before) / share: A 0, .5, 1, 1.5; B 0, 1, 2; ties by age (A's are older)
    const expected = [aJobs[0], bJobs[0], aJobs[1], aJobs[2], bJobs[1], aJobs[3], bJobs[2]];
    expect((await queueView()).map((j) => j.id)).toEqual(expected);

    // three nets: the first three positions start
    expect((await cycle()).sort()).toEqual(expected.slice(0, 3).sort());
    // running A 2, B 1: A3 (2+0)/2 = 1, B2 (1+0)/1 = 1 — A3 is older; then A4 1.5, B3 2
    expect((await queueView()).map((j) => j.id)).toEqual([aJobs[2], bJobs[1], aJobs[3], bJobs[2]]);
    await complete([bJobs[0]]);
    // running A 2, B 0: B2 (0+0)/1 = 0 comes first now, then A3 (2+0)/2 = 1 and B3 (0+1)/1 = 1 by age, A4 1.5
    expect((await queueView()).map((j) => j.id)).toEqual([bJobs[1], aJobs[2], bJobs[2], aJobs[3]]);
    expect(await cycle()).toEqual([bJobs[1]]);
  });

  it("the README's worked example: Oncology share 2, Cardiology share 1, a HIGH job, a trust limit", async () => {
    const onc = await createScenario(f.hub, 2);
    const card = await createScenario(f.hub, 1);
    await f.hub.gqlOk('mutation($p: ID!) { setProjectLimits(projectId: $p, share: 2) { share } }', { p: onc.projectId });
    const o = [await queue(onc), await queue(onc), await queue(onc), await queue(onc)];
    const c = [await queue(card), await queue(card), await queue(card), await queue(card, { priority: 'HIGH' })];
    const [c1, c2, c3, c4] = c;
    const [o1, o2, o3, o4] = o;
    expect((await queueView()).map((j) => j.id)).toEqual([c4, o1, o2, o3, c1, o4, c2, c3]);
    expect((await cycle()).sort()).toEqual([c4, o1, o2].sort());
    // Oncology runs 2, Cardiology 1: O3 (2 + 0)/2 = 1 and C1 (1 + 0)/1 = 1, O3 older
    expect((await queueView()).map((j) => j.id).slice(0, 2)).toEqual([o3, c1]);
    // C4 ends: Cardiology runs 0, C1's key drops to 0
    await complete([c4]);
    expect((await queueView())[0].id).toBe(c1);
    expect(await cycle()).toEqual([c1]);
    await complete([o1, o2, c1]);

    // a trust limit of 1: the claim takes the first of two jobs naming it, passes the second by
    const leeds = onc.trustIds[0];
    await f.hub.gqlOk('mutation($t: ID!) { setTrustLimit(trustId: $t, maxConcurrentJobs: 1) { maxConcurrentJobs } }', {
      t: leeds,
    });
    try {
      // nothing runs: O3 0, C2 0, O4 0.5, C3 1 — O3 and O4 both name Leeds
      expect((await queueView()).map((j) => j.id)).toEqual([o3, c2, o4, c3]);
      expect((await cycle()).sort()).toEqual([o3, c2, c3].sort());
      expect(await queueView()).toMatchObject([{ id: o4, queuePosition: 1, pendingReason: 'TRUST_AT_CAPACITY' }]);
    } finally {
      await f.hub.gqlOk('mutation($t: ID!) { setTrustLimit(trustId: $t, maxConcurrentJobs: null) { id } }', { t: leeds });
    }
  });

  it('DISPATCH_ORDER=fifo: oldest first, whatever the priority and the share', async () => {
    const fifo = await f.startHub({ dispatchOrder: 'fifo' });
    try {
      const first = await queue(f.s, { priority: 'LOW' });
      const second = await queue(f.s, { priority: 'URGENT' });
      const { jobs } = await fifo.gqlOk<{ jobs: Queued[] }>(QUEUE_VIEW);
      expect(jobs.map((j) => [j.id, j.queuePosition])).toEqual([
        [first, 1],
        [second, 2],
      ]);
      await freeNets(1);
      const { runPickupCycle } = await fifo.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(CYCLE);
      expect(runPickupCycle.started.map((j) => j.id)).toEqual([first]);
    } finally {
      await fifo.close();
    }
  });
});

describe('limits and holds: a job that cannot start never holds up one that can', () => {
  const f = useNetHub({ nets: [{ name: 'net-1' }, { name: 'net-2' }, { name: 'net-3' }], kitSlots: SLOTS, trusts: 3 });
  afterEach(async () => {
    await f.reset();
    await f.db.pool.query(`update trust set max_concurrent_jobs = null, on_hold = false, hold_until = null`);
    await f.db.pool.query(`update project set max_concurrent_jobs = null, share = 1`);
  });

  const { queueView, cycle } = queueing(f);
  const queue = (s: Scenario, trustIds: string[]) => queueing(f).queue(s, {}, trustIds);
  const statuses = async (ids: string[]) =>
    (
      await f.db.pool.query<{ status: string }>(`select status from job where id = any($1) order by array_position($1, id)`, [
        ids,
      ])
    ).rows.map((r) => r.status);

  it('a trust at its limit: in one claim only one of its jobs starts, the job behind them on another trust starts too', async () => {
    const [t1, t2, t3] = f.s.trustIds;
    await f.db.pool.query(`update trust set max_concurrent_jobs = 1 where id = $1`, [t1]);
    const first = await queue(f.s, [t1, t2]);
    const second = await queue(f.s, [t1]);
    const third = await queue(f.s, [t3]);
    const before = await queueView();
    expect(before.map((j) => j.pendingReason)).toEqual(['WAITING_FOR_NET', 'WAITING_FOR_NET', 'WAITING_FOR_NET']);

    const started = await cycle();
    expect(started.sort()).toEqual([first, third].sort());
    const [waiting] = await queueView();
    expect(waiting).toMatchObject({ id: second, queuePosition: 1, pendingReason: 'TRUST_AT_CAPACITY' });
    expect(waiting.pendingDetail).toMatch(/runs 1 of 1/);
    const running = await f.db.pool.query<{ n: number }>(
      `select count(*)::int as n from job j join job_trust jt on jt.job_id = j.id where j.status = 'IN_PROGRESS' and jt.trust_id = $1`,
      [t1],
    );
    expect(running.rows[0].n).toBe(1);

    // the trust's job ends: the waiting one starts on the next cycle
    const { rows } = await f.db.pool.query<{ m: string }>(`select model_id as m from job where id = $1`, [first]);
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: rows[0].m });
    expect(await cycle()).toEqual([second]);
  });

  it('a project at its limit waits (PROJECT_AT_CAPACITY); another project goes on', async () => {
    const other = await createScenario(f.hub, 1);
    await f.db.pool.query(`update project set max_concurrent_jobs = 1 where id = $1`, [f.s.projectId]);
    const a1 = await queue(f.s, [f.s.trustIds[0]]);
    const a2 = await queue(f.s, [f.s.trustIds[1]]);
    const b1 = await queue(other, other.trustIds);
    expect((await cycle()).sort()).toEqual([a1, b1].sort());
    const [waiting] = await queueView();
    expect(waiting).toMatchObject({ id: a2, pendingReason: 'PROJECT_AT_CAPACITY' });
    expect(waiting.pendingDetail).toMatch(/runs 1 of its 1 jobs at once/);
    expect(await statuses([a1, a2, b1])).toEqual(['IN_PROGRESS', 'QUEUED', 'IN_PROGRESS']);
  });

  it('a held trust: its jobs wait (TRUST_HELD), placed after the jobs that can start; released, they start; a hold past its time is over', async () => {
    const [t1, t2] = f.s.trustIds;
    await f.db.pool.query(`update trust set on_hold = true where id = $1`, [t1]);
    const held = await queue(f.s, [t1]);
    const free = await queue(f.s, [t2]);
    const view = await queueView();
    expect(view.map((j) => [j.id, j.queuePosition, j.pendingReason])).toEqual([
      [free, 1, 'WAITING_FOR_NET'],
      [held, 2, 'TRUST_HELD'],
    ]);
    expect(view[1].pendingDetail).toMatch(/on hold: .* until released/);
    expect(await cycle()).toEqual([free]);
    expect(await statuses([held])).toEqual(['QUEUED']);

    // a hold whose time has passed is over
    await f.db.pool.query(`update trust set hold_until = now() - interval '1 second' where id = $1`, [t1]);
    expect((await queueView())[0]).toMatchObject({ id: held, pendingReason: 'WAITING_FOR_NET' });
    expect(await cycle()).toEqual([held]);
  });
});
