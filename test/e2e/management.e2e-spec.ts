import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestHub, type TestHub } from '../support/hub.js';

describe('management operations', () => {
  let db: TestDatabase;
  let hub: TestHub;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startTestHub(db.url, {
      netEndpoints: [{ name: 'net-a', endpoint: 'http://127.0.0.1:1' }],
      kitSlots: ['slot-1', 'slot-2'],
    });
  });

  afterAll(async () => {
    await hub?.close();
    await db?.drop();
  });

  it('creates trusts bound to the lowest free kit slot, then without one', async () => {
    const names = ['Trust A', 'Trust B', 'Trust C'];
    const slots: Array<string | null> = [];
    for (const name of names) {
      const data = await hub.gqlOk<{ createTrust: { slotName: string | null } }>(
        'mutation($name: String!) { createTrust(input: { name: $name }) { id name slotName } }',
        { name },
      );
      slots.push(data.createTrust.slotName);
    }
    expect(slots).toEqual(['slot-1', 'slot-2', null]);
  });

  it('answers a malformed id with BAD_USER_INPUT', async () => {
    const response = await hub.gql('{ job(id: "nope") { id } }');
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
