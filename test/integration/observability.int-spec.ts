import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { testToken } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';

const SLOTS = ['site-1', 'site-2'];

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

describe('metrics, health and request ids', () => {
  const f = useNetHub({ nets: [{ name: 'net-up' }, { name: 'net-down', endpoint: 'http://127.0.0.1:9' }], kitSlots: SLOTS });

  it('GET /metrics reports queue depth, net states, dispatches, failures, pickup latency and net call durations', async () => {
    const server = f.hub.app.getHttpServer();
    await f.s.queue(await f.s.newModel());
    await f.s.queue(await f.s.newModel());
    await f.s.queue(await f.s.newModel());
    let text = (await request(server).get('/metrics').expect(200)).text;
    expect(metricValue(text, 'fl_queue_depth')).toBe(3);
    expect(text).toContain('fl_nets{status="AVAILABLE"} 2');

    // one start on the good net, one failed start on the net that is down
    await f.hub.gqlOk('mutation { runPickupCycle { started { id } failed { id } } }');
    text = (await request(server).get('/metrics').expect(200)).text;
    expect(metricValue(text, 'fl_dispatches_total{backend="nvflare"}')).toBe(1);
    expect(text).toMatch(/fl_start_failures_total\{reason="net:check_client_status"\} [1-9]/);
    // the failed start put its job back in the queue (a backoff), the net that failed is held back until a probe
    expect(metricValue(text, 'fl_start_attempts_total{outcome="STARTED"}')).toBe(1);
    expect(metricValue(text, 'fl_start_attempts_total{outcome="NET_ERROR"}')).toBe(1);
    expect(metricValue(text, 'fl_net_backoffs_total{event="held"}')).toBe(1);
    expect(metricValue(text, 'fl_pickup_latency_seconds_count')).toBe(1);
    expect(text).toMatch(/fl_net_call_duration_seconds_count\{call="submit_job",outcome="ok"\} 1/);
    expect(text).toContain('fl_nets{status="BUSY"} 1');
    expect(metricValue(text, 'fl_dispatch_leader')).toBe(0); // automatic pickup is off here: it never leads
  });

  it('GET /health: the database up, and each net with its reachability', async () => {
    const response = await request(f.hub.app.getHttpServer()).get('/health').expect(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.info.database.status).toBe('up');
    expect(response.body.info.nets['net-up']).toMatchObject({ reachable: true, status: 'started' });
    expect(response.body.info.nets['net-down']).toMatchObject({ reachable: false });
    expect(response.body.info.dispatch).toMatchObject({ status: 'up', leader: false, notifications: true });
    expect(response.body.info.dispatch.instance).toMatch(/^fl-scheduler\/[0-9a-f]{8}$/);
  });

  it("carries the request's x-request-id into the calls to the net", async () => {
    // no job left waiting by the first test goes first
    await f.db.pool.query(`update job set status = 'DELETED', end_reason = 'REMOVED' where status = 'QUEUED'`);
    // only the reachable net takes jobs here
    await f.db.pool.query(`update scheduler set status = 'BUSY', lease_until = now() + interval '1 hour'
                         where net_id = (select id from net where name = 'net-down') and status = 'AVAILABLE'`);
    const modelId = await f.s.newModel();
    await request(f.hub.app.getHttpServer())
      .post('/graphql')
      .set('authorization', `Bearer ${await testToken(['admin'])}`)
      .set('x-request-id', 'trace-me-123')
      .send({
        query: 'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }',
        variables: { m: modelId, t: f.s.trustIds },
      })
      .expect('x-request-id', 'trace-me-123');
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', {
      m: (await f.db.pool.query("select model_id from job where status = 'IN_PROGRESS'")).rows[0]?.model_id ?? modelId,
    });
    const response = await request(f.hub.app.getHttpServer())
      .post('/graphql')
      .set('authorization', `Bearer ${await testToken(['admin'])}`)
      .set('x-request-id', 'cycle-req-42')
      .send({ query: 'mutation { runPickupCycle { started { id } } }' });
    expect(response.body.data.runPickupCycle.started).toHaveLength(1);
    const submit = f.net.requestsTo('submit_job').find((r) => r.path.includes(modelId));
    expect(submit?.headers['x-request-id']).toBe('cycle-req-42');
  });
});
