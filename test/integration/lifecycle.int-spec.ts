import { beforeAll, describe, expect, it } from '@jest/globals';
import { LIFECYCLE_STATEMENTS } from '../../src/modules/jobs/lifecycle/statements.js';
import { jobStateSql, netStateSql } from '../../src/modules/jobs/lifecycle/transitions.js';
import { AdmissionService } from '../../src/modules/schedulers/net-state/admission.service.js';
import { RecoveryService } from '../../src/modules/schedulers/net-state/recovery.service.js';
import { ReconcileService } from '../../src/modules/schedulers/running/reconcile.service.js';
import type { TestDatabase } from '../support/database.js';
import { startTestHub } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';
import { until } from '../support/wait.js';

const SLOTS = ['site-1', 'site-2'];
const LEASE_MS = 400;
const CYCLE = 'mutation { runPickupCycle { started { id status } failed { id status } } }';
type Cycle = { runPickupCycle: { started: Array<{ id: string; status: string }>; failed: Array<{ id: string }> } };

interface Move {
  statement: string;
  row: 'job' | 'net';
  fromState: string;
  toState: string;
}

/**
 * Records every change of a job or scheduler row with the statement that made
 * it (the lifecycle names each statement in its SQL: `/* lifecycle:<name> *\/`)
 * and the row's state before and after, computed as the transition table
 * defines it. A change by any other statement is logged `(unnamed)`.
 */
async function recordMoves(db: TestDatabase): Promise<void> {
  await db.pool.query(`
    create table lifecycle_move (seq serial, statement text, row_kind text, from_state text, to_state text);
    create function record_lifecycle_move() returns trigger language plpgsql as $$
    declare
      statement text := coalesce(substring(current_query() from '/\\* lifecycle:(\\w+) \\*/'), '(unnamed)');
    begin
      if tg_table_name = 'job' then
        insert into lifecycle_move (statement, row_kind, from_state, to_state)
        values (statement, 'job', case when tg_op = 'INSERT' then 'NEW' else ${jobStateSql('old')} end, ${jobStateSql('new')});
      else
        insert into lifecycle_move (statement, row_kind, from_state, to_state)
        values (statement, 'net', ${netStateSql('old')}, ${netStateSql('new')});
      end if;
      return null;
    end $$;
    create trigger record_job_move after insert or update on job for each row execute function record_lifecycle_move();
    create trigger record_net_move after update on scheduler for each row execute function record_lifecycle_move();
  `);
}

describe('the lifecycle statements on PostgreSQL: each moves rows only along its declared transitions', () => {
  const f = useNetHub({
    nets: [{ name: 'net-1' }],
    kitSlots: SLOTS,
    hub: {
      netLeaseMs: LEASE_MS,
      runMissingGraceMs: 60_000,
      netCallTimeoutMs: 1000,
      // a job whose start failed waits out a long backoff: it stays out of the later scenarios' cycles
      admissionBackoffMs: 600_000,
      admissionBackoffMaxMs: 600_000,
    },
  });
  beforeAll(() => recordMoves(f.db)); // after the fixture's beforeAll: only the tests' changes are recorded

  const reconcile = () => f.hub.app.get(ReconcileService).reconcile();
  const jobStatus = async (id: string) =>
    (await f.hub.gqlOk<{ job: { status: string } }>('query($id: ID!) { job(id: $id) { status } }', { id })).job.status;
  const netStatus = async () =>
    (await f.hub.gqlOk<{ schedulers: Array<{ status: string }> }>('{ schedulers { status } }')).schedulers[0].status;
  const moves = async () =>
    (
      await f.db.pool.query<Move>(
        `select statement, row_kind as row, from_state as "fromState", to_state as "toState" from lifecycle_move order by seq`,
      )
    ).rows;
  /** A job whose submit_job is held on the net while its completion comes: the cycle still running. */
  const completionOvertakingStart = async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    f.net.fail('submit_job', { holdAnswer: true, times: 1 });
    const cycle = f.hub.gqlOk<Cycle>(CYCLE);
    await f.net.untilHeld('submit_job');
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    return { jobId, cycle };
  };

  it('a job queued, started, missing from its net a while, completed, then removed', async () => {
    const jobId = await f.s.queue(await f.s.newModel());
    const { runPickupCycle } = await f.hub.gqlOk<Cycle>(CYCLE);
    expect(runPickupCycle.started).toEqual([{ id: jobId, status: 'IN_PROGRESS' }]);
    f.net.fail('list_jobs', { status: 200, body: [], times: 1 });
    await reconcile(); // the run is not listed: missing since now
    await reconcile(); // listed again
    f.net.finishAll();
    expect(await reconcile()).toMatchObject({ completed: 1 });
    await f.hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { id } }', { id: jobId });
    expect(await jobStatus(jobId)).toBe('DELETED');
  });

  it('a net claimed by hand, a job claimed for it, then the pickup reverted and the queued job removed', async () => {
    const jobId = await f.s.queue(await f.s.newModel());
    const { claimAvailableNet } = await f.hub.gqlOk<{ claimAvailableNet: { id: string } }>(
      'mutation { claimAvailableNet { id } }',
    );
    await f.hub.gqlOk('mutation($s: ID!) { claimQueuedJob(schedulerId: $s) { id } }', { s: claimAvailableNet.id });
    await f.hub.gqlOk('mutation($s: ID!) { revertSchedulerPickup(schedulerId: $s) { id } }', { s: claimAvailableNet.id });
    expect(await jobStatus(jobId)).toBe('QUEUED');
    await f.hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { id } }', { id: jobId });
    expect(await jobStatus(jobId)).toBe('DELETED');
  });

  it('a claim whose lease expires is recovered: the job back in the queue, the net free', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    const { claimAvailableNet } = await f.hub.gqlOk<{ claimAvailableNet: { id: string } }>(
      'mutation { claimAvailableNet { id } }',
    );
    await f.hub.gqlOk('mutation($s: ID!) { claimQueuedJob(schedulerId: $s) { id } }', { s: claimAvailableNet.id });
    const recovery = f.hub.app.get(RecoveryService);
    await until(async () => (await recovery.recoverExpiredLeases()).requeued === 1, { what: 'the lease to be recovered' });
    expect(await jobStatus(jobId)).toBe('QUEUED');
    expect(await f.hub.gqlOk('mutation($m: ID!) { removeJobsForModel(modelId: $m) }', { m: modelId })).toEqual({
      removeJobsForModel: 1,
    });
  });

  it('a start that fails after submit_job: the job back in the queue (a backoff), the net held, a failed sweep, then a sweep that frees it', async () => {
    await f.s.queue(await f.s.newModel());
    f.net.fail('submit_job', { status: 500, serveFirst: true, times: 1 });
    f.net.fail('list_jobs', { status: 500, times: 1 });
    const { runPickupCycle } = await f.hub.gqlOk<Cycle>(CYCLE);
    expect(runPickupCycle.failed).toHaveLength(1);
    expect(await netStatus()).toBe('BUSY');
    expect(await reconcile()).toMatchObject({ swept: 1 });
    expect(await netStatus()).toBe('AVAILABLE');
    // the net failed a call: it is held back until a probe; bring it back as an answered probe would (the net row is not traced)
    await f.db.pool.query('update net set failed_calls = 0, retry_at = null');
  });

  it('a completion that overtakes its start, whose submit_job then times out: the net held for a sweep and swept', async () => {
    const { jobId, cycle } = await completionOvertakingStart();
    const { runPickupCycle } = await cycle;
    f.net.releaseHeld('submit_job');
    expect(runPickupCycle.failed).toEqual([{ id: jobId, status: 'COMPLETED' }]);
    expect(await jobStatus(jobId)).toBe('COMPLETED');
    expect(await netStatus()).toBe('AVAILABLE');
  });

  it('a completion that overtakes its start, whose submit_job then answers: the run recorded, the net swept', async () => {
    const { jobId, cycle } = await completionOvertakingStart();
    f.net.releaseHeld('submit_job');
    expect((await cycle).runPickupCycle.started).toEqual([{ id: jobId, status: 'COMPLETED' }]);
    expect(await netStatus()).toBe('AVAILABLE');
  });

  it('a running job stopped: removed, its run aborted, its net swept and free', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.started).toHaveLength(1);
    await f.hub.gqlOk('mutation($m: ID!) { stopTraining(modelId: $m) { id } }', { m: modelId });
    expect(await jobStatus(jobId)).toBe('DELETED');
    expect(await netStatus()).toBe('AVAILABLE');
  });

  it('a queued job whose trust is no longer approved is retired by the cycle', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    await f.hub.gqlOk('mutation($m: ID!, $t: [ID!]!) { updateModelApprovedTrusts(modelId: $m, trustIds: $t) { id } }', {
      m: modelId,
      t: [f.s.trustIds[0]],
    });
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.started).toEqual([]);
    expect(await jobStatus(jobId)).toBe('DELETED');
  });

  it('a queued job reprioritised, then removed', async () => {
    const jobId = await f.s.queue(await f.s.newModel());
    await f.hub.gqlOk('mutation($id: ID!) { setJobPriority(jobId: $id, priority: HIGH) { id } }', { id: jobId });
    await f.hub.gqlOk('mutation($id: ID!) { removeJob(id: $id) { id } }', { id: jobId });
    expect(await jobStatus(jobId)).toBe('DELETED');
  });

  it('a run past its limit: timed out, its run aborted, its net swept and free', async () => {
    const { queueTraining } = await f.hub.gqlOk<{ queueTraining: { id: string } }>(
      'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t, options: { maxRuntimeSeconds: 1 }) { id } }',
      { m: await f.s.newModel(), t: f.s.trustIds },
    );
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.started).toHaveLength(1);
    await until(
      async () =>
        (
          await f.db.pool.query(`select 1 from job where id = $1 and started_at <= now() - interval '1 second'`, [
            queueTraining.id,
          ])
        ).rowCount === 1,
      { what: 'the run to pass its limit' },
    );
    expect(await reconcile()).toMatchObject({ timedOut: 1 });
    expect(await jobStatus(queueTraining.id)).toBe('DELETED');
    expect(await netStatus()).toBe('AVAILABLE');
  });

  it('a start that finds its clients offline: the job waits (back in the queue), then its wait runs out and it is removed', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    f.net.setClients(SLOTS.slice(1), [SLOTS[0]]);
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.failed).toEqual([{ id: jobId, status: 'QUEUED' }]);
    f.net.setClients(SLOTS);
    // an instance whose ADMISSION_MAX_WAIT_MS is over for it removes it (ADMISSION_TIMEOUT)
    const impatient = await startTestHub(f.db.url, {
      admissionMaxWaitMs: 1,
      admissionBackoffMs: 600_000,
      admissionBackoffMaxMs: 600_000,
    });
    try {
      const waitedPastIt = async () =>
        (await f.db.pool.query(`select 1 from job where id = $1 and offline_since <= now() - interval '5 milliseconds'`, [jobId]))
          .rowCount === 1;
      await until(waitedPastIt, { what: 'the job waited past ADMISSION_MAX_WAIT_MS', intervalMs: 5 });
      expect(await impatient.app.get(AdmissionService).expireWaitingJobs()).toBe(1);
    } finally {
      await impatient.close();
    }
    expect(await jobStatus(jobId)).toBe('DELETED');
  });

  it('every change above was made by a lifecycle statement, along a move it declares; every statement was seen', async () => {
    const seen = await moves();
    const declared = new Map(LIFECYCLE_STATEMENTS.map((statement) => [statement.name, statement]));
    const undeclared = seen.filter(({ statement, row, fromState, toState }) => {
      const declaration = declared.get(statement);
      const allowed = (row === 'job' ? declaration?.job : declaration?.net) ?? [];
      return !allowed.some(([from, to]) => `${from} → ${to}` === `${fromState} → ${toState}`);
    });
    expect(undeclared).toEqual([]);
    expect([...declared.keys()].filter((name) => !seen.some((m) => m.statement === name))).toEqual([]);
  });
});
