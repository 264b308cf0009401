import { afterEach, describe, expect, it } from '@jest/globals';
import { useNetHub } from '../support/net-hub.js';
import { JOB_FIELDS } from '../support/scenario.js';

const SLOTS = Array.from({ length: 20 }, (_, i) => `site-${i + 1}`);

describe('claim and start on a net', () => {
  const f = useNetHub({ nets: [{ name: 'net-a' }, { name: 'net-b' }], kitSlots: SLOTS });

  afterEach(async () => {
    await f.resetNets();
    await f.clearJobs(); // leave no job behind for the next test
  });

  const schedulerStates = async () =>
    (
      await f.db.pool.query<{ name: string; status: string; job_id: string | null; lease_until: Date | null }>(
        `select n.name, s.status, s.job_id, s.lease_until from scheduler s join net n on n.id = s.net_id order by n.name`,
      )
    ).rows;

  it('runs the seed steps: claimAvailableNet → claimQueuedJob → startTraining → completeTraining', async () => {
    const modelId = await f.s.newModel();
    const jobId = await f.s.queue(modelId);

    const { claimAvailableNet } = await f.hub.gqlOk(
      'mutation { claimAvailableNet { id status net { name endpoint } job { id } } }',
    );
    expect(claimAvailableNet.status).toBe('BUSY');
    expect(claimAvailableNet.job).toBeNull();
    const net = f.nets[claimAvailableNet.net.name];

    const { claimQueuedJob } = await f.hub.gqlOk(`mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { ${JOB_FIELDS} } }`, {
      id: claimAvailableNet.id,
    });
    expect(claimQueuedJob).toMatchObject({
      id: jobId,
      status: 'IN_PROGRESS',
      attempts: 1,
      net: { name: claimAvailableNet.net.name },
    });

    const { startTraining } = await f.hub.gqlOk(
      `mutation($m: ID!, $j: ID!, $t: [ID!]!) { startTraining(modelId: $m, jobId: $j, trustIds: $t) { ${JOB_FIELDS} } }`,
      { m: modelId, j: jobId, t: f.s.trustIds },
    );
    expect(startTraining.status).toBe('IN_PROGRESS');
    expect(startTraining.backendJobId).toBe(net.runByModel(modelId)?.job_id);
    expect(startTraining.model.status).toBe('INITIATED');

    // the net received the app: project, latest cohort query, and the kit slot names (not the trust names)
    const upload = net.uploads.find((u) => u.modelId === modelId);
    expect(upload?.body).toEqual({
      project_id: f.s.projectId,
      cohort_query: f.s.cohortQuery,
      trusts: f.s.slotNames,
      bundle_urls: [],
    });
    const calls = net.requests.filter((r) => r.path.includes(modelId) || r.call === 'check_client_status');
    expect(calls.every((r) => typeof r.headers['x-request-id'] === 'string' && r.headers['x-request-id'].length > 0)).toBe(true);

    const { netByModel } = await f.hub.gqlOk('query($m: ID!) { netByModel(modelId: $m) { name } }', { m: modelId });
    expect(netByModel.name).toBe(claimAvailableNet.net.name);
    const lease = (await schedulerStates()).find((r) => r.name === claimAvailableNet.net.name);
    expect(lease).toMatchObject({ status: 'BUSY', job_id: jobId, lease_until: null });

    const { completeTraining } = await f.hub.gqlOk(`mutation($m: ID!) { completeTraining(modelId: $m) { ${JOB_FIELDS} } }`, {
      m: modelId,
    });
    expect(completeTraining.status).toBe('COMPLETED');
    expect(completeTraining.completedAt).not.toBeNull();
    expect((await schedulerStates()).every((r) => r.status === 'AVAILABLE' && r.job_id === null)).toBe(true);

    // completing again is a no-op
    const again = await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelId });
    expect(again.completeTraining).toBeNull();
  });

  it('claimQueuedJob refuses a scheduler that was not claimed, and returns null on an empty queue', async () => {
    const { schedulers } = await f.hub.gqlOk('{ schedulers { id status } }');
    const refused = await f.hub.gql('mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { id } }', { id: schedulers[0].id });
    expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');

    const { claimAvailableNet } = await f.hub.gqlOk('mutation { claimAvailableNet { id } }');
    const empty = await f.hub.gqlOk('mutation($id: ID!) { claimQueuedJob(schedulerId: $id) { id } }', {
      id: claimAvailableNet.id,
    });
    expect(empty.claimQueuedJob).toBeNull();
    const reverted = await f.hub.gqlOk('mutation($id: ID!) { revertSchedulerPickup(schedulerId: $id) { status job { id } } }', {
      id: claimAvailableNet.id,
    });
    expect(reverted.revertSchedulerPickup).toEqual({ status: 'AVAILABLE', job: null });
  });

  it('one cycle dispatches as many jobs as there are free nets, oldest first; the rest keep their queue order', async () => {
    const models = await Promise.all([1, 2, 3, 4, 5].map(() => f.s.newModel()));
    const jobs: string[] = [];
    for (const m of models) jobs.push(await f.s.queue(m));

    const { runPickupCycle } = await f.hub.gqlOk(`mutation { runPickupCycle { started { ${JOB_FIELDS} } failed { id } } }`);
    expect(runPickupCycle.failed).toEqual([]);
    expect(runPickupCycle.started.map((j: { id: string }) => j.id).sort()).toEqual(jobs.slice(0, 2).sort());
    expect(new Set(runPickupCycle.started.map((j: { net: { name: string } }) => j.net.name))).toEqual(
      new Set(['net-a', 'net-b']),
    );

    const { jobs: queued } = await f.hub.gqlOk('{ jobs(status: QUEUED) { id queuePosition } }');
    expect(queued).toEqual(jobs.slice(2).map((id, i) => ({ id, queuePosition: i + 1 })));

    // nothing is free: a second cycle starts nothing
    const second = await f.hub.gqlOk('mutation { runPickupCycle { started { id } failed { id } } }');
    expect(second.runPickupCycle).toEqual({ started: [], failed: [] });

    // one net frees up: the next oldest job goes
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: models[0] });
    const third = await f.hub.gqlOk('mutation { runPickupCycle { started { id } } }');
    expect(third.runPickupCycle.started.map((j: { id: string }) => j.id)).toEqual([jobs[2]]);
    expect(f.nets['net-a'].submitCount() + f.nets['net-b'].submitCount()).toBeGreaterThanOrEqual(3);
  });

  it('retires a job whose trust is no longer approved, and goes on to the next job', async () => {
    const badModel = await f.s.newModel();
    const goodModel = await f.s.newModel();
    const badJob = await f.s.queue(badModel);
    const goodJob = await f.s.queue(goodModel);
    await f.hub.gqlOk('mutation($m: ID!, $t: [ID!]!) { updateModelApprovedTrusts(modelId: $m, trustIds: $t) { id } }', {
      m: badModel,
      t: [f.s.trustIds[0]],
    });
    await f.db.pool.query(
      `update scheduler set status = 'BUSY', lease_until = now() + interval '1 hour' where net_id = (select id from net where name = 'net-b')`,
    );

    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id net { name } } failed { id } } }');
    expect(runPickupCycle.started).toEqual([{ id: goodJob, net: { name: 'net-a' } }]);
    const { job, model } = await f.hub.gqlOk('query($j: ID!, $m: ID!) { job(id: $j) { status } model(id: $m) { status } }', {
      j: badJob,
      m: badModel,
    });
    expect(job.status).toBe('DELETED');
    expect(model.status).toBe('ERROR');
  });
});
