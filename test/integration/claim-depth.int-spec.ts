import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { useNetHub } from '../support/net-hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

/**
 * The fair claim reads each project's queue only as deep as the first jobs of
 * the dispatch order need: the projects whose cheap bounds rank first are
 * checked job by job, every project only when those fall short, and a
 * project is read past its head only when more of its jobs can rank among the
 * first. The bounds of the projects that run nothing come from the front of
 * each priority class, those of the others (and of a class whose front is
 * one project's) from one probe per project. Here, with many projects, against the queue view (`queuePosition`,
 * one pass over the whole queue, written apart from the claim): every cycle
 * starts exactly the first jobs of the queue view — when the projects
 * checked first are all held, when one project's share puts several of its
 * jobs first, and through a queue drained cycle by cycle.
 */

const NETS = ['net-1', 'net-2', 'net-3', 'net-4'];
const PROJECTS = 14;
const SLOTS = Array.from({ length: PROJECTS + 2 }, (_, i) => `site-${i + 1}`);
const CYCLE = 'mutation { runPickupCycle { started { id } } }';
const QUEUE = `mutation($m: ID!, $t: [ID!]!, $o: QueueOptions) { queueTraining(modelId: $m, trustIds: $t, options: $o) { id } }`;
const QUEUE_VIEW = '{ jobs(status: QUEUED) { id queuePosition pendingReason } }';
const PRIORITIES = ['LOW', 'NORMAL', 'NORMAL', 'HIGH', 'URGENT'];

interface Queued {
  id: string;
  queuePosition: number;
  pendingReason: string;
}

describe('the fair claim, many projects: each cycle starts the first jobs of the queue view', () => {
  const f = useNetHub({ nets: NETS.map((name) => ({ name })), kitSlots: SLOTS, trusts: 1 });
  let projects: Scenario[] = [];

  beforeAll(async () => {
    projects = [];
    for (let i = 0; i < PROJECTS; i++) projects.push(await createScenario(f.hub, 1));
  }, 60_000);

  /** Trusts held and project shares set by a test, undone after it through the same operations. */
  let held: string[] = [];
  let shared: string[] = [];

  const hold = async (trustIds: string[]) => {
    for (const t of trustIds) await f.hub.gqlOk('mutation($t: ID!) { holdTrust(trustId: $t) { id } }', { t });
    held.push(...trustIds);
  };

  const setShare = async (projectId: string, share: number) => {
    await f.hub.gqlOk('mutation($p: ID!, $s: Int) { setProjectLimits(projectId: $p, share: $s) { id } }', {
      p: projectId,
      s: share,
    });
    shared.push(projectId);
  };

  afterEach(async () => {
    await freeNets(NETS.length);
    const [heldNow, sharedNow] = [held, shared];
    held = [];
    shared = [];
    for (const t of heldNow) await f.hub.gqlOk('mutation($t: ID!) { releaseTrust(trustId: $t) { id } }', { t });
    for (const p of sharedNow) await setShare(p, 1);
    shared = [];
    await f.reset();
  });

  /** `perProject` jobs of each project, queued round-robin (so every project has old and young jobs), priorities mixed. */
  async function queueAll(
    perProject: number,
    priorityOf: (n: number, p: Scenario) => string = (n) => PRIORITIES[(n * 7) % PRIORITIES.length],
    of: Scenario[] = projects,
  ): Promise<string[]> {
    const ids: string[] = [];
    let n = 0;
    for (let round = 0; round < perProject; round++) {
      for (const p of of) {
        const model = await p.newModel();
        const priority = priorityOf(n, p);
        n++;
        const { queueTraining } = await f.hub.gqlOk<{ queueTraining: { id: string } }>(QUEUE, {
          m: model,
          t: p.trustIds,
          o: { priority },
        });
        ids.push(queueTraining.id);
      }
    }
    return ids;
  }

  /** The first `n` nets take jobs, the others are drained (drainNet / resumeNet). */
  async function freeNets(n: number): Promise<void> {
    const { nets } = await f.hub.gqlOk<{ nets: Array<{ id: string; name: string }> }>('{ nets { id name } }');
    for (const net of nets) {
      const resume = NETS.indexOf(net.name) < n;
      await f.hub.gqlOk(`mutation($n: ID!) { ${resume ? 'resumeNet' : 'drainNet'}(netId: $n) { id } }`, { n: net.id });
    }
  }

  const startable = async () =>
    (await f.hub.gqlOk<{ jobs: Queued[] }>(QUEUE_VIEW)).jobs
      .filter((j) => j.pendingReason === 'WAITING_FOR_NET')
      .sort((a, b) => a.queuePosition - b.queuePosition)
      .map((j) => j.id);

  /** How many of `jobIds` are jobs of project `projectId`. */
  const countOf = async (jobIds: string[], projectId: string) =>
    (
      await f.db.pool.query<{ n: number }>(`select count(*)::int as n from job where id = any($1) and project_id = $2`, [
        jobIds,
        projectId,
      ])
    ).rows[0].n;

  const cycle = async () =>
    (await f.hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(CYCLE)).runPickupCycle.started.map((j) => j.id);

  async function completeAll(): Promise<void> {
    const { rows } = await f.db.pool.query<{ m: string }>(`select model_id as m from job where status = 'IN_PROGRESS'`);
    for (const { m } of rows) await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m });
  }

  /** Runs cycles with `nets` free until the queue is empty, each time checking the cycle against the queue view. */
  async function drainComparing(nets: number, rounds: number): Promise<number> {
    await freeNets(nets);
    let started = 0;
    for (let round = 0; round < rounds; round++) {
      const expected = (await startable()).slice(0, nets);
      if (expected.length === 0) break;
      const took = await cycle();
      expect({ round, took: [...took].sort() }).toEqual({ round, took: [...expected].sort() });
      started += took.length;
      await completeAll();
    }
    return started;
  }

  it('one free net: the projects whose bounds come first are all held, so the claim reads every project', async () => {
    const ids = await queueAll(3);
    // the first 8 projects queued first (their bounds rank first among equals): all their trusts held
    await hold(projects.slice(0, 8).flatMap((p) => p.trustIds));
    await freeNets(1);
    const expected = (await startable())[0];
    const { rows } = await f.db.pool.query<{ project: string }>(`select project_id as project from job where id = $1`, [
      expected,
    ]);
    expect(projects.slice(8).map((p) => p.projectId)).toContain(rows[0].project);
    expect(await cycle()).toEqual([expected]);
    await completeAll();
    expect(await drainComparing(1, 8)).toBe(8);
    expect(ids.length).toBe(3 * PROJECTS);
  }, 120_000);

  it('four free nets: a project whose jobs are all HIGH places three of them first, and they start together', async () => {
    const big = projects[5];
    await queueAll(3, (_, p) => (p === big ? 'HIGH' : 'NORMAL'));
    await freeNets(4);
    const first = (await startable()).slice(0, 4);
    expect(await countOf(first, big.projectId)).toBe(3);
    expect((await cycle()).sort()).toEqual([...first].sort());
    await completeAll();
    expect(await drainComparing(4, 12)).toBe(3 * PROJECTS - 4);
  }, 120_000);

  it('four free nets, three projects, one of share 10: its second job ranks among the first four and starts with them', async () => {
    const [a, b, c] = projects;
    await setShare(a.projectId, 10);
    await queueAll(4, () => 'NORMAL', [a, b, c]);
    await freeNets(4);
    const first = (await startable()).slice(0, 4);
    // keys: a 0, .1, .2, .3; b and c 0, 1, …: a's first two, b's and c's heads
    expect(await countOf(first, a.projectId)).toBe(2);
    expect((await cycle()).sort()).toEqual([...first].sort());
    await completeAll();
    expect(await drainComparing(4, 10)).toBe(12 - 4);
  }, 120_000);

  it('three free nets: one project fills the front of the NORMAL class and another runs a job, yet both rank among the first', async () => {
    const [a, b] = projects;
    const runner = projects[PROJECTS - 1];
    // the runner's first job runs on net-1 (it stays running): its project is read with a running job
    await freeNets(1);
    await queueAll(1, () => 'NORMAL', [runner]);
    expect(await cycle()).toHaveLength(1);
    // a's 60 NORMAL jobs come before every other NORMAL job: more than the claim reads of the class's front at 3 free nets
    const aJobs = await queueAll(60, () => 'NORMAL', [a]);
    const [bJob] = await queueAll(1, () => 'NORMAL', [b]);
    const [urgent] = await queueAll(1, () => 'HIGH', [runner]);
    await freeNets(4);
    const first = (await startable()).slice(0, 3);
    expect([...first].sort()).toEqual([aJobs[0], bJob, urgent].sort());
    expect((await cycle()).sort()).toEqual([...first].sort());
  }, 120_000);

  it('two free nets, shares 1–3, some trusts held: the whole queue drained cycle by cycle, each cycle as the view said', async () => {
    await queueAll(3);
    for (const [i, p] of projects.entries()) await setShare(p.projectId, 1 + (i % 3));
    await hold([projects[1], projects[4], projects[9]].flatMap((p) => p.trustIds));
    const startedJobs = await drainComparing(2, 40);
    expect(startedJobs).toBe(3 * (PROJECTS - 3));
  }, 180_000);
});
