/**
 * useNetHub (net-hub.ts) for a hub PROCESS (`npm start`, killed or signalled by the test): a test database,
 * one fake net `net-1` (its clients the kit slots), a hub process on them and a scenario made through its
 * GraphQL.
 *
 *   const f = useNetHubProcess({ name: 'terminated', kitSlots: SLOTS, hub: { pickupIntervalMs: 600_000 } });
 *   it('…', async () => { await f.s.queue(await f.s.newModel()); f.hub.kill('SIGKILL'); … });
 *
 * `prepare` runs on the database before the hub starts (a setting of the database, say). Every hub process
 * is SIGKILLed in afterAll, then the net closed and the database dropped.
 */

import { afterAll, beforeAll } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startFakeNet, type FakeNet, type FakeNetOptions } from './fake-net.js';
import { killAllHubProcesses, startHubProcess, type HubProcess, type HubProcessOptions } from './hub-process.js';
import { createScenario, type Scenario } from './scenario.js';

export interface NetHubProcessOptions {
  name: string;
  kitSlots: string[];
  net?: FakeNetOptions;
  hub?: Omit<HubProcessOptions, 'databaseUrl' | 'name' | 'netEndpoints' | 'kitSlots'>;
  prepare?: (db: TestDatabase) => Promise<void>;
}

export interface NetHubProcess {
  db: TestDatabase;
  net: FakeNet;
  hub: HubProcess;
  s: Scenario;
}

export function useNetHubProcess(options: NetHubProcessOptions): NetHubProcess {
  const fixture = {} as NetHubProcess;
  beforeAll(async () => {
    fixture.db = await createTestDatabase();
    await options.prepare?.(fixture.db);
    fixture.net = await startFakeNet({ clients: options.kitSlots, ...options.net });
    fixture.hub = await startHubProcess({
      ...options.hub,
      name: options.name,
      databaseUrl: fixture.db.url,
      netEndpoints: { 'net-1': fixture.net.url },
      kitSlots: options.kitSlots,
    });
    fixture.s = await createScenario(fixture.hub);
  }, 120_000);
  afterAll(async () => {
    await killAllHubProcesses();
    await fixture.net?.close();
    await fixture.db?.drop();
  });
  return fixture;
}
