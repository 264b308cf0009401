import { describe, expect, it } from '@jest/globals';
import { testToken } from '../support/hub.js';
import { NET_NAMES, useTwoProjects } from '../support/two-projects.js';

interface SchedulerView {
  status: string;
  net: { name: string };
  job: { id: string } | null;
}

/**
 * Net tokens (the `net` claim) on two projects' runs on two nets: another net's
 * run, no run, its own run, and a run that moves while the report is checked.
 */
describe('a net token reports only on the runs of its own net', () => {
  const f = useTwoProjects();

  describe('net tokens', () => {
    it.each([
      ['completeTraining', 'mutation($m: ID!) { completeTraining(modelId: $m) { id } }'],
      [
        'updateModelStatus (ending the run)',
        'mutation($m: ID!) { updateModelStatus(modelId: $m, status: RESULTS_UPLOADED) { id } }',
      ],
      ['updateModelStatus (not ending it)', 'mutation($m: ID!) { updateModelStatus(modelId: $m, status: RUNNING) { id } }'],
    ])("another net's run: %s is FORBIDDEN and changes nothing", async (_label, mutation) => {
      const before = await f.state();
      const response = await f.as(await testToken(['net'], { claims: { net: f.netOfA } }))(mutation, { m: f.modelB });
      expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(response.errors?.[0].message).toContain(f.netOfA);
      expect(await f.state()).toEqual(before);
      const { job, schedulers } = await f.hub.gqlOk<{ job: { status: string }; schedulers: SchedulerView[] }>(
        'query($j: ID!) { job(id: $j) { status } schedulers { status net { name } job { id } } }',
        { j: f.jobB },
      );
      expect(job.status).toBe('IN_PROGRESS');
      expect(schedulers.find((s) => s.net.name === f.netOfB)).toEqual({
        status: 'BUSY',
        net: { name: f.netOfB },
        job: { id: f.jobB },
      });
    });

    it.each([
      ['without a net claim', () => testToken(['net'])],
      ['naming an unknown net', () => testToken(['net'], { claims: { net: 'net-9' } })],
      [
        'holding researcher rights in the project too',
        () => testToken(['net', 'researcher'], { claims: { net: f.netOfA, projects: [f.b.projectId] } }),
      ],
    ])('a net token %s cannot report on a run', async (_label, token) => {
      const before = await f.state();
      const response = await f.as(await token())('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: f.modelB });
      expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(await f.state()).toEqual(before);
    });

    it('a model with no running job: no net may report on it (a queued job has no net yet)', async () => {
      const before = await f.state();
      for (const net of NET_NAMES) {
        const token = await testToken(['net'], { claims: { net } });
        const response = await f.as(token)('mutation($m: ID!) { updateModelStatus(modelId: $m, status: ERROR) { id } }', {
          m: f.modelA2,
        });
        expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      }
      expect(await f.state()).toEqual(before);
    });
  });

  it.each([
    ['projects is not a list', { projects: '00000000-0000-4000-8000-000000000000' }],
    ['projects holds a number', { projects: [1] }],
    ['projects holds a non-UUID', { projects: ['project-a'] }],
    ['net is not a string', { net: 5 }],
    ['net is empty', { net: ' ' }],
  ])('a token whose claim is malformed is UNAUTHENTICATED: %s', async (_label, claims) => {
    const response = await f.as(await testToken(['researcher', 'net'], { claims }))('{ projects { id } }');
    expect(response.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.data ?? null).toBeNull();
  });

  it("a net token reports on its own net's run: status, then completion; the net is freed", async () => {
    const own = f.as(await testToken(['net'], { claims: { net: f.netOfB } }));
    const status = await own('mutation($m: ID!) { updateModelStatus(modelId: $m, status: RUNNING) { status } }', { m: f.modelB });
    expect(status.data).toEqual({ updateModelStatus: { status: 'RUNNING' } });
    const completed = await own('mutation($m: ID!) { completeTraining(modelId: $m) { id status } }', { m: f.modelB });
    expect(completed.data).toEqual({ completeTraining: { id: f.jobB, status: 'COMPLETED' } });
    const { rows } = await f.db.pool.query(
      'select s.status, s.job_id from scheduler s join net n on n.id = s.net_id where n.name = $1',
      [f.netOfB],
    );
    expect(rows).toEqual([{ status: 'AVAILABLE', job_id: null }]);
    // its run is over: a repeat is a report on a run it no longer has
    const again = await own('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: f.modelB });
    expect(again.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // A's run on the other net was not touched
    expect(await f.netRunning(f.jobA)).toBe(f.netOfA);
  });

  it("a net's report cannot race a move of the run: the check holds the job's row until the write commits", async () => {
    // stands in for recovery + a new claim in one step (jobA moves to the net freed above); the
    // report arrives while that transaction holds the job's row, and must judge the job as it ends up
    const mover = await f.db.pool.connect();
    try {
      await mover.query('begin');
      await mover.query(`update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null where job_id = $1`, [
        f.jobA,
      ]);
      await mover.query(`update job set net_id = (select id from net where name = $2) where id = $1`, [f.jobA, f.netOfB]);
      await mover.query(`update scheduler set status = 'BUSY', job_id = $1 where net_id = (select id from net where name = $2)`, [
        f.jobA,
        f.netOfB,
      ]);
      const before = (await f.db.pool.query('select status from model where id = $1', [f.modelA])).rows;
      const report = f.as(await testToken(['net'], { claims: { net: f.netOfA } }))(
        'mutation($m: ID!) { updateModelStatus(modelId: $m, status: RUNNING) { status } }',
        { m: f.modelA },
      );
      let settled = false;
      void report.finally(() => (settled = true));
      const waiting = async () =>
        (await f.db.pool.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`))
          .rowCount !== 0;
      const deadline = Date.now() + 10_000;
      // until the report waits for the row (or, were the check not locking, has already answered)
      while (!settled && !(await waiting())) {
        if (Date.now() > deadline) throw new Error('the report neither waited for the job row nor answered');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await mover.query('commit');
      const response = await report;
      expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await f.db.pool.query('select status from model where id = $1', [f.modelA])).rows).toEqual(before);
      expect(await f.netRunning(f.jobA)).toBe(f.netOfB);
    } finally {
      mover.release();
    }
  });
});
