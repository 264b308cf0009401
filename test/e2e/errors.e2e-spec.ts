import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestHub, type TestHub } from '../support/hub.js';

describe('probe', () => {
  let db: TestDatabase;
  let hub: TestHub;
  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startTestHub(db.url, { netEndpoints: [{ name: 'net-a', endpoint: 'http://127.0.0.1:1' }], kitSlots: ['s1'] });
  });
  afterAll(async () => { await hub?.close(); await db?.drop(); });
  it('probes', async () => {
    const t = (await hub.gqlOk('mutation { createTrust(input: {name: "a"}) { id } }')).createTrust.id;
    const p = (await hub.gqlOk('mutation { createProject(input: {name: "a"}) { id } }')).createProject.id;
    const m = (await hub.gqlOk(`mutation { createModel(input: {projectId: "${p}", name: "m", approvedTrustIds: ["${t}"]}) { id } }`)).createModel.id;
    const show = async (q: string) => console.log(q, JSON.stringify(await hub.gql(q)));
    await show(`mutation { queueTraining(modelId: "${m}", trustIds: ["${t}"]) { id createdAt startedAt } }`);
    await show(`{ jobs { id createdAt } }`);
    await show(`mutation { createCohortQuery(input: {projectId: "${p}", name: "c", query: "q"}) { id createdAt } }`);
    await show(`{ jobs { id createdAt } }`);
    const s = (await hub.gqlOk('mutation { claimAvailableNet { id updatedAt leaseUntil } }'));
    console.log(JSON.stringify(s));
    await show(`mutation { claimQueuedJob(schedulerId: "${s.claimAvailableNet.id}") { id createdAt startedAt } }`);
    await show(`{ schedulers { id updatedAt leaseUntil job { id startedAt } } }`);
    await show(`{ jobs { id startedAt } }`);
  });
});
