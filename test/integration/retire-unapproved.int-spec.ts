import { describe, expect, it } from '@jest/globals';
import { useNetHub } from '../support/net-hub.js';

const SLOTS = ['site-1', 'site-2'];
const CYCLE = 'mutation { runPickupCycle { started { id status } } }';
const APPROVE = 'mutation($m: ID!, $t: [ID!]!) { updateModelApprovedTrusts(modelId: $m, trustIds: $t) { id } }';
type Cycle = { runPickupCycle: { started: Array<{ id: string; status: string }> } };

/**
 * The full cycle retires queued jobs naming a trust no longer approved for
 * their model (DELETED, UNAPPROVED_TRUST, model ERROR). It looks only at the
 * jobs of models with a revoked approval (`revoked_approval`, kept by a
 * trigger on `model_approved_trust`), not at the whole queue: these are the
 * cases where that must not change what is retired.
 */
describe('retirement of queued jobs naming a trust no longer approved', () => {
  const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS });

  const job = async (id: string) =>
    (
      await f.db.pool.query<{ status: string; end_reason: string | null; model_status: string }>(
        `select j.status, j.end_reason, m.status as model_status from job j join model m on m.id = j.model_id where j.id = $1`,
        [id],
      )
    ).rows[0];
  const revoked = async (modelId: string) =>
    (
      await f.db.pool.query<{ trust_id: string }>('select trust_id from revoked_approval where model_id = $1 order by trust_id', [
        modelId,
      ])
    ).rows.map((r) => r.trust_id);
  const freeTheNet = async () => {
    await f.db.pool.query(`update job set status = 'COMPLETED', completed_at = now() where status = 'IN_PROGRESS'`);
    await f.db.pool.query(`update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null`);
  };

  it('an approval removed: the pair is kept, and the next full cycle retires the job before any claim', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    expect(await revoked(modelId)).toEqual([]);
    await f.hub.gqlOk(APPROVE, { m: modelId, t: [f.s.trustIds[0]] });
    expect(await revoked(modelId)).toEqual([f.s.trustIds[1]]);
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.started).toEqual([]);
    expect(await job(jobId)).toEqual({ status: 'DELETED', end_reason: 'UNAPPROVED_TRUST', model_status: 'ERROR' });
  });

  it('an approval removed and given back: the pair is gone, the job is not retired and starts', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    await f.hub.gqlOk(APPROVE, { m: modelId, t: [f.s.trustIds[0]] });
    await f.hub.gqlOk(APPROVE, { m: modelId, t: f.s.trustIds });
    expect(await revoked(modelId)).toEqual([]);
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.started).toEqual([{ id: jobId, status: 'IN_PROGRESS' }]);
    await freeTheNet();
  });

  it('an approval removed while the job is claimed, the job then put back in the queue: retired by the next full cycle', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    const { claimAvailableNet } = await f.hub.gqlOk<{ claimAvailableNet: { id: string } }>(
      'mutation { claimAvailableNet { id } }',
    );
    const { claimQueuedJob } = await f.hub.gqlOk<{ claimQueuedJob: { id: string } }>(
      'mutation($s: ID!) { claimQueuedJob(schedulerId: $s) { id } }',
      { s: claimAvailableNet.id },
    );
    expect(claimQueuedJob.id).toBe(jobId);
    await f.hub.gqlOk(APPROVE, { m: modelId, t: [f.s.trustIds[0]] });
    // a full cycle while the job is claimed: nothing queued to retire
    await f.hub.gqlOk(CYCLE);
    expect((await job(jobId)).status).toBe('IN_PROGRESS');
    await f.hub.gqlOk('mutation($s: ID!) { revertSchedulerPickup(schedulerId: $s) { status } }', { s: claimAvailableNet.id });
    expect((await job(jobId)).status).toBe('QUEUED');
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.started).toEqual([]);
    expect(await job(jobId)).toEqual({ status: 'DELETED', end_reason: 'UNAPPROVED_TRUST', model_status: 'ERROR' });
  });

  it('the pair is kept whatever removes the approval: a plain DELETE, also in a replica session', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);
    const client = await f.db.pool.connect();
    try {
      await client.query('set session_replication_role = replica');
      await client.query('delete from model_approved_trust where model_id = $1 and trust_id = $2', [modelId, f.s.trustIds[0]]);
    } finally {
      await client.query('set session_replication_role = origin');
      client.release();
    }
    expect(await revoked(modelId)).toEqual([f.s.trustIds[0]]);
    await f.hub.gqlOk(CYCLE);
    expect((await job(jobId)).status).toBe('DELETED');
  });

  it('valid queued jobs are left alone: a queue of them, no revoked pair, nothing retired, the oldest starts', async () => {
    const models = [await f.s.newModel(), await f.s.newModel(), await f.s.newModel()];
    const jobs = [];
    for (const modelId of models) jobs.push(await f.s.queue(modelId));
    for (const modelId of models) expect(await revoked(modelId)).toEqual([]);
    expect((await f.hub.gqlOk<Cycle>(CYCLE)).runPickupCycle.started).toEqual([{ id: jobs[0], status: 'IN_PROGRESS' }]);
    for (const id of jobs.slice(1)) expect((await job(id)).status).toBe('QUEUED');
    await freeTheNet();
  });
});
