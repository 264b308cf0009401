import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeNet, type FakeNet } from './fake-net.js';
import { until } from './wait.js';

const uploadBody = { project_id: 'p-1', cohort_query: 'age > 40', trusts: ['slot-1'], bundle_urls: [] };

async function call(net: FakeNet, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(net.url + path, {
    method,
    headers: { 'x-request-id': 'req-42', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}

async function submit(net: FakeNet, modelId: string): Promise<string> {
  const { status, body } = await call(net, 'POST', `/submit_job/${modelId}`);
  expect(status).toBe(200);
  expect(typeof body).toBe('string');
  return body as string;
}

/** The error a failed fetch was rejected with, by its cause's code. */
async function fetchFailure(url: string, timeoutMs = 5000): Promise<string> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (error instanceof DOMException) return error.name;
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? String(error);
  }
  throw new Error(`${url} answered`);
}

describe('fake FL net', () => {
  let net: FakeNet;

  beforeAll(async () => {
    net = await startFakeNet({ clients: ['slot-1', 'slot-2'], offlineClients: ['slot-3'] });
  });
  afterAll(() => net.close());
  afterEach(() => {
    net.clearFaults();
    net.forgetRuns();
  });

  it('listens on an ephemeral 127.0.0.1 port', () => {
    expect(net.url).toBe(`http://127.0.0.1:${net.port}`);
    expect(net.port).toBeGreaterThan(0);
  });

  it('reports clients with NVFLARE statuses, and follows setClients', async () => {
    const first = await call(net, 'GET', '/check_client_status');
    expect(first.status).toBe(200);
    expect(first.body).toEqual([
      { name: 'slot-1', status: 'ok', last_connect_time: expect.any(String) },
      { name: 'slot-2', status: 'ok', last_connect_time: expect.any(String) },
      { name: 'slot-3', status: 'no_reply', last_connect_time: expect.any(String) },
    ]);
    net.setClients(['slot-3'], ['slot-1']);
    const second = await call(net, 'GET', '/check_client_status');
    expect((second.body as Array<{ name: string; status: string }>).map(({ name, status }) => [name, status])).toEqual([
      ['slot-3', 'ok'],
      ['slot-1', 'no_reply'],
    ]);
    net.setClients(['slot-1', 'slot-2'], ['slot-3']);
  });

  it('reports Flower statuses for a flower net', async () => {
    const flower = await startFakeNet({ backend: 'flower', clients: ['a'], offlineClients: ['b'] });
    try {
      const { body } = await call(flower, 'GET', '/check_client_status');
      expect((body as Array<{ status: string }>).map((c) => c.status)).toEqual(['CONNECTED', 'DISCONNECTED']);
    } finally {
      await flower.close();
    }
  });

  it('reports the server as started', async () => {
    expect((await call(net, 'GET', '/check_server_status')).body).toEqual({ status: 'started', start_time: expect.any(String) });
  });

  it('accepts a well-formed upload and records it, refuses a bad one with 400', async () => {
    expect(await call(net, 'POST', '/upload_app/model-1', uploadBody)).toEqual({ status: 200, body: { message: 'uploaded' } });
    expect(net.uploads.at(-1)).toMatchObject({ modelId: 'model-1', body: uploadBody });
    expect((await call(net, 'POST', '/upload_app/model-1', '{not json')).status).toBe(400);
    expect((await call(net, 'POST', '/upload_app/model-1', { ...uploadBody, trusts: undefined })).status).toBe(400);
    expect((await call(net, 'POST', '/upload_app/model-1')).status).toBe(400);
  });

  it('submits, lists and aborts runs', async () => {
    const jobId = await submit(net, 'model-1');
    expect(net.runByModel('model-1')).toMatchObject({ job_id: jobId, modelId: 'model-1', status: 'RUNNING' });
    expect((await call(net, 'GET', '/list_jobs')).body).toEqual([{ job_id: jobId, status: 'RUNNING' }]);
    expect(net.activeRuns()).toHaveLength(1);

    expect(await call(net, 'DELETE', `/abort_job/${jobId}`)).toEqual({ status: 200, body: { job_id: jobId, status: 'STOPPED' } });
    expect(net.runByModel('model-1')?.status).toBe('STOPPED');
    expect(net.activeRuns()).toHaveLength(0);

    const unknown = await call(net, 'DELETE', '/abort_job/no-such-job');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: expect.any(String) });
  });

  it('answers 404 for an unknown route', async () => {
    expect((await call(net, 'GET', '/nope')).status).toBe(404);
    expect((await call(net, 'GET', '/submit_job/model-1')).status).toBe(404);
  });

  it('records every request with lower-cased headers', async () => {
    const before = net.requests.length;
    await call(net, 'POST', '/upload_app/model-9', uploadBody);
    const recorded = net.requests.slice(before);
    expect(recorded).toEqual([
      {
        method: 'POST',
        path: '/upload_app/model-9',
        call: 'upload_app',
        body: uploadBody,
        headers: expect.any(Object),
        at: expect.any(Date),
      },
    ]);
    expect(recorded[0]?.headers['x-request-id']).toBe('req-42');
    expect(net.requestsTo('upload_app').at(-1)?.path).toBe('/upload_app/model-9');
  });

  it('lets a test drive runs: setRunStatus, finishAll, forgetRuns, counts and the concurrency watermark', async () => {
    const watermarkBefore = net.maxConcurrentActiveRuns;
    const countBefore = net.submitCount();
    const a = await submit(net, 'model-a');
    await submit(net, 'model-b');
    expect(net.maxConcurrentActiveRuns).toBeGreaterThanOrEqual(Math.max(2, watermarkBefore));
    net.setRunStatus(a, 'FAILED');
    expect(net.runByModel('model-a')?.status).toBe('FAILED');
    expect(net.runByModel('model-a')?.endedAt).toBeInstanceOf(Date);
    net.finishAll();
    expect(net.runs().map((r) => r.status)).toEqual(['FAILED', 'FINISHED']);
    expect(net.submitCount('model-a')).toBe(1);
    expect(net.submitCount()).toBe(countBefore + 2);
    net.forgetRuns();
    expect((await call(net, 'GET', '/list_jobs')).body).toEqual([]);
    expect(net.submitCount()).toBe(countBefore + 2);
    expect(() => net.setRunStatus(a, 'RUNNING')).toThrow();
  });

  it('injects an HTTP status fault, for the next N calls only', async () => {
    net.fail('submit_job', { status: 503, body: { error: 'busy' }, times: 2 });
    expect(await call(net, 'POST', '/submit_job/m')).toEqual({ status: 503, body: { error: 'busy' } });
    expect((await call(net, 'POST', '/submit_job/m')).status).toBe(503);
    expect(net.submitCount('m')).toBe(0);
    expect((await call(net, 'POST', '/submit_job/m')).status).toBe(200);
    expect(net.submitCount('m')).toBe(1);
  });

  it('injects a malformed answer and a persistent fault until cleared', async () => {
    net.fail('list_jobs', { status: 200, body: 'not json' });
    expect(await call(net, 'GET', '/list_jobs')).toEqual({ status: 200, body: 'not json' });
    expect((await call(net, 'GET', '/list_jobs')).body).toBe('not json');
    net.clearFaults('list_jobs');
    expect((await call(net, 'GET', '/list_jobs')).body).toEqual([]);
  });

  it('injects a delay (a slow net, or a timeout for an impatient client)', async () => {
    net.fail('check_server_status', { delayMs: 300 });
    const started = Date.now();
    expect((await call(net, 'GET', '/check_server_status')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(await fetchFailure(`${net.url}/check_server_status`, 100)).toBe('TimeoutError');
  });

  it('injects a hang and a connection reset', async () => {
    net.fail('check_client_status', { hang: true, times: 1 });
    expect(await fetchFailure(`${net.url}/check_client_status`, 200)).toBe('TimeoutError');
    net.fail('list_jobs', { reset: true, times: 1 });
    expect(await fetchFailure(`${net.url}/list_jobs`)).toBe('ECONNRESET');
    expect((await call(net, 'GET', '/list_jobs')).status).toBe(200);
  });

  it('refuses connections while stopped, and serves again on the same port after restart', async () => {
    const port = net.port;
    await net.stop();
    expect(await fetchFailure(`${net.url}/check_server_status`)).toBe('ECONNREFUSED');
    await net.restart();
    expect(net.port).toBe(port);
    expect((await call(net, 'GET', '/check_server_status')).status).toBe(200);
  });
});

describe('fake FL net run lifecycle options', () => {
  it('auto-finishes runs, moves PENDING to RUNNING, and calls onSubmit', async () => {
    const submitted: string[] = [];
    const transitions: string[] = [];
    const net = await startFakeNet({
      pendingMs: 30,
      autoFinishAfterMs: [80, 120],
      onSubmit: (run) => submitted.push(run.job_id),
      onRunStatus: (run, previous) => transitions.push(`${previous} → ${run.status}`),
    });
    try {
      const jobId = await submit(net, 'm');
      expect(submitted).toEqual([jobId]);
      // the order of the transitions, not their timing (the machine may be loaded)
      await until(() => net.runByModel('m')?.status === 'FINISHED', { what: 'the run finished' });
      expect(transitions).toEqual(['PENDING → RUNNING', 'RUNNING → FINISHED']);
      expect(net.maxConcurrentActiveRuns).toBe(1);
    } finally {
      await net.close();
    }
  });

  it('closes quickly with a hung request and pending timers', async () => {
    const net = await startFakeNet({ autoFinishAfterMs: 60_000, faults: { list_jobs: { hang: true } } });
    await submit(net, 'm');
    const hung = fetchFailure(`${net.url}/list_jobs`);
    await until(() => net.requestsTo('list_jobs').length > 0, { what: 'the request reached the net' });
    const started = Date.now();
    await net.close();
    expect(Date.now() - started).toBeLessThan(10_000); // neither the hung request nor the 60 s timer holds it
    expect(await hung).not.toBe('TimeoutError');
  });
});
