import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/app-config.js';
import { startSimNets, type RunningSimNets } from './sim-nets.js';

async function call(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('SIM_NETS', () => {
  it('defaults to 2 in development without NET_ENDPOINTS, else to 0', () => {
    expect(loadConfig({}).simNets).toBe(2);
    expect(loadConfig({}).simNetTrainMs).toBe(10_000);
    expect(loadConfig({ NET_ENDPOINTS: '{"n":"http://h:1"}' }).simNets).toBe(0);
    expect(loadConfig({ NODE_ENV: 'test' }).simNets).toBe(0);
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgresql://h/db', AUTH_JWT_SECRET: 'x'.repeat(40) };
    expect(loadConfig(production).simNets).toBe(0);
    expect(loadConfig({ SIM_NETS: '3', NET_ENDPOINTS: '{"n":"http://h:1"}', SIM_NET_TRAIN_MS: '500' })).toMatchObject({
      simNets: 3,
      simNetTrainMs: 500,
    });
    expect(loadConfig({ SIM_NETS: '0' }).simNets).toBe(0);
  });

  it('is refused in production, and when it is not a small whole number', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgresql://h/db', AUTH_JWT_SECRET: 'x'.repeat(40) };
    expect(() => loadConfig({ ...production, SIM_NETS: '1' })).toThrow(/SIM_NETS must be 0 in production/);
    expect(() => loadConfig({ SIM_NETS: 'two' })).toThrow(/SIM_NETS must be a whole number/);
    expect(() => loadConfig({ SIM_NETS: '-1' })).toThrow(/SIM_NETS/);
    expect(() => loadConfig({ SIM_NETS: '21' })).toThrow(/SIM_NETS must be at most 20/);
    expect(() => loadConfig({ SIM_NET_TRAIN_MS: '1.5' })).toThrow(/SIM_NET_TRAIN_MS/);
  });
});

describe('the simulated nets', () => {
  let running: RunningSimNets | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('registers sim-net-1… beside NET_ENDPOINTS, with kit slots site-1…site-5 when FL_KIT_SLOTS is unset', async () => {
    running = await startSimNets(
      { ...loadConfig({ NET_ENDPOINTS: '{"real":"http://10.0.0.1:1"}', SIM_NETS: '2' }) },
      () => undefined,
    );
    expect(running.config.netEndpoints.map((n) => n.name)).toEqual(['real', 'sim-net-1', 'sim-net-2']);
    expect(running.config.kitSlots).toEqual(['site-1', 'site-2', 'site-3', 'site-4', 'site-5']);
    const [, first] = running.config.netEndpoints;
    const clients = await call(`${first.endpoint}/check_client_status`);
    expect(clients.body.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual([
      'site-1:ok',
      'site-2:ok',
      'site-3:ok',
      'site-4:ok',
      'site-5:ok',
    ]);
  });

  it('keeps FL_KIT_SLOTS when set, and refuses a NET_ENDPOINTS name it would take', async () => {
    running = await startSimNets(loadConfig({ SIM_NETS: '1', FL_KIT_SLOTS: 'a,b' }), () => undefined);
    expect(running.config.kitSlots).toEqual(['a', 'b']);
    await expect(
      startSimNets(loadConfig({ SIM_NETS: '1', NET_ENDPOINTS: '{"sim-net-1":"http://h:1"}' }), () => undefined),
    ).rejects.toThrow(/NET_ENDPOINTS names a net "sim-net-1", which SIM_NETS=1 uses/);
  });

  it('serves the net contract and finishes each run after its training time', async () => {
    const lines: string[] = [];
    running = await startSimNets(loadConfig({ SIM_NETS: '1', SIM_NET_TRAIN_MS: '300' }), (line) => lines.push(line));
    const url = running.config.netEndpoints[0].endpoint;
    expect((await call(`${url}/check_server_status`)).body.status).toBe('started');
    const upload = { project_id: 'p', cohort_query: 'q', trusts: ['site-1'], bundle_urls: [] };
    expect((await call(`${url}/upload_app/model-1`, 'POST', upload)).status).toBe(200);
    const submitted = await call(`${url}/submit_job/model-1`, 'POST');
    expect(typeof submitted.body).toBe('string');
    const runOf = async () => (await call(`${url}/list_jobs`)).body.find((r: { job_id: string }) => r.job_id === submitted.body);
    expect((await runOf()).status).toBe('RUNNING');
    const deadline = Date.now() + 10_000;
    while ((await runOf()).status === 'RUNNING' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await runOf()).status).toBe('FINISHED');
    // a second run, aborted before it finishes
    const second = await call(`${url}/submit_job/model-2`, 'POST');
    expect((await call(`${url}/abort_job/${second.body}`, 'DELETE')).body).toEqual({ job_id: second.body, status: 'STOPPED' });
    expect((await call(`${url}/abort_job/unknown`, 'DELETE')).status).toBe(404);
    expect((await call(`${url}/nope`)).status).toBe(404);
    expect(lines).toContain(`sim-net-1: run ${submitted.body} (model model-1): RUNNING -> FINISHED`);
  });
});
