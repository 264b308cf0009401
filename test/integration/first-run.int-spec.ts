import { afterAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { killAllHubProcesses, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { until } from '../support/wait.js';

/** `npm start` in development with no NET_ENDPOINTS: the hub starts its own simulated nets. */
describe('a first run with SIM_NETS', () => {
  const databases: TestDatabase[] = [];
  const hubs: HubProcess[] = [];

  afterAll(async () => {
    await killAllHubProcesses();
    for (const db of databases) await db.drop();
  });

  async function start(env: Record<string, string>): Promise<HubProcess> {
    const db = await createTestDatabase();
    databases.push(db);
    // NET_ENDPOINTS and FL_KIT_SLOTS unset, as on a fresh clone
    const hub = await startHubProcess({ databaseUrl: db.url, env: { NET_ENDPOINTS: '', FL_KIT_SLOTS: '', ...env } });
    hubs.push(hub);
    return hub;
  }

  it('schedules a job on a simulated net, QUEUED to COMPLETED, with no net of its own', async () => {
    const hub = await start({ SIM_NET_TRAIN_MS: '1000', RECONCILE_INTERVAL_MS: '500' });
    const { nets } = await hub.gqlOk('{ nets { name simulated scheduler { status } } }');
    expect(nets).toEqual([
      { name: 'sim-net-1', simulated: true, scheduler: { status: 'AVAILABLE' } },
      { name: 'sim-net-2', simulated: true, scheduler: { status: 'AVAILABLE' } },
    ]);
    const trusts: Array<{ id: string; slotName: string | null }> = [];
    for (let i = 1; i <= 6; i++) {
      const { createTrust } = await hub.gqlOk('mutation($n: String!) { createTrust(input: { name: $n }) { id slotName } }', {
        n: `Trust ${i}`,
      });
      trusts.push(createTrust);
    }
    expect(trusts.map((t) => t.slotName)).toEqual(['site-1', 'site-2', 'site-3', 'site-4', 'site-5', null]);
    const ids = trusts.slice(0, 2).map((t) => t.id);
    const { createProject } = await hub.gqlOk('mutation { createProject(input: { name: "Chest X-ray" }) { id } }');
    await hub.gqlOk(
      'mutation($p: ID!) { createCohortQuery(input: { projectId: $p, name: "adults", query: "SELECT 1" }) { id } }',
      {
        p: createProject.id,
      },
    );
    const { createModel } = await hub.gqlOk(
      'mutation($p: ID!, $t: [ID!]!) { createModel(input: { projectId: $p, name: "resnet", approvedTrustIds: $t }) { id } }',
      { p: createProject.id, t: ids },
    );
    const { queueTraining } = await hub.gqlOk(
      'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }',
      {
        m: createModel.id,
        t: ids,
      },
    );
    const job = await until(
      async () => {
        const { job } = await hub.gqlOk('query($id: ID!) { job(id: $id) { status net { name } } }', { id: queueTraining.id });
        return job.status === 'COMPLETED' || job.status === 'DELETED' ? job : null;
      },
      { what: 'the job ended', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(job.status).toBe('COMPLETED');
    expect(['sim-net-1', 'sim-net-2']).toContain(job.net.name);
  });

  it('SIM_NETS=0 keeps the seed: no net registered', async () => {
    const hub = await start({ SIM_NETS: '0' });
    const response = await hub.gql('{ nets { name } }');
    expect(response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
