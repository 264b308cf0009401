/**
 * The integration tests' common ground: a test database, fake nets, a hub on them and a scenario
 * (project, cohort query, trusts, through GraphQL). In a describe block:
 *
 *   const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS, hub: { netLeaseMs: 400 } });
 *   it('…', async () => { await f.s.queue(await f.s.newModel()); await f.hub.gqlOk(CYCLE); f.net.submitCount(…) });
 *
 * `useNetHub` starts it in `beforeAll` and closes it in `afterAll` (its fields are there from the first
 * test on); `startNetHub` is the same for a test that starts its own. A net given an `endpoint` is not
 * started (an unreachable address, say). `backend` is the hub's FL_BACKEND and every fake net's default.
 * `startHub` adds another hub instance on the same database and nets (closed with the database);
 * `prepare` runs on the database before any hub starts.
 */

import { afterAll, beforeAll } from '@jest/globals';
import type { AppConfig } from '../../src/config/app-config.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startFakeNet, type FakeNet, type FakeNetOptions } from './fake-net.js';
import { startTestHub, type TestHub } from './hub.js';
import { createScenario, type Scenario } from './scenario.js';

export type NetSpec = ({ name: string } & FakeNetOptions) | { name: string; endpoint: string };

export interface NetHubOptions {
  nets: NetSpec[];
  kitSlots: string[];
  backend?: AppConfig['flBackend'];
  /** the hub's config, over startTestHub's defaults */
  hub?: Partial<AppConfig>;
  /** trusts of the scenario (default 2) */
  trusts?: number;
  /** runs on the database before any hub starts (a database setting, say) */
  prepare?: (db: TestDatabase) => Promise<void>;
}

export interface NetHub {
  db: TestDatabase;
  hub: TestHub;
  /** the fake nets, by name */
  nets: Record<string, FakeNet>;
  /** the first fake net */
  net: FakeNet;
  s: Scenario;
  /** the config every hub of this fixture gets, before its own overrides */
  hubConfig: Partial<AppConfig>;
  startHub(overrides?: Partial<AppConfig>): Promise<TestHub>;
  /** every fake net back to its starting clients, without faults or held calls, listening */
  resetNets(): Promise<void>;
  /** leaves no job behind for the next test: every net AVAILABLE, every QUEUED or IN_PROGRESS job DELETED */
  clearJobs(): Promise<void>;
  /** between tests that leave runs and faults behind: resetNets, every fake net restarted with its runs finished, clearJobs */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startNetHub(options: NetHubOptions): Promise<NetHub> {
  const backend = options.backend ?? 'nvflare';
  const db = await createTestDatabase();
  await options.prepare?.(db);
  const nets: Record<string, FakeNet> = {};
  const started: Array<{ spec: NetSpec; net: FakeNet }> = [];
  try {
    for (const spec of options.nets) {
      if ('endpoint' in spec) continue;
      const { name: _name, ...netOptions } = spec;
      const net = await startFakeNet({ backend, clients: options.kitSlots, ...netOptions });
      nets[spec.name] = net;
      started.push({ spec, net });
    }
  } catch (error) {
    await Promise.all(started.map(({ net }) => net.close()));
    await db.drop();
    throw error;
  }
  const hubConfig: Partial<AppConfig> = {
    netEndpoints: options.nets.map((spec) => ({
      name: spec.name,
      endpoint: 'endpoint' in spec ? spec.endpoint : nets[spec.name].url,
    })),
    flBackend: backend,
    kitSlots: options.kitSlots,
    ...options.hub,
  };
  const close = async () => {
    await db.drop(); // closes every hub and pool on it first
    await Promise.all(started.map(({ net }) => net.close()));
  };
  try {
    const hub = await startTestHub(db.url, hubConfig);
    const s = await createScenario(hub, options.trusts ?? 2);
    const fixture: NetHub = {
      db,
      hub,
      nets,
      net: started[0]?.net,
      s,
      hubConfig,
      startHub: (overrides = {}) => startTestHub(db.url, { ...hubConfig, ...overrides }),
      resetNets: async () => {
        for (const { spec, net } of started) {
          net.clearFaults();
          net.releaseHeld();
          net.setClients(
            ('clients' in spec && spec.clients) || options.kitSlots,
            ('offlineClients' in spec && spec.offlineClients) || [],
          );
          if (!(await fetch(`${net.url}/list_jobs`).catch(() => null))) await net.restart();
        }
      },
      reset: async () => {
        await fixture.resetNets();
        for (const { net } of started) {
          await net.restart();
          net.finishAll();
        }
        await fixture.clearJobs();
      },
      clearJobs: async () => {
        await db.pool.query(
          `update scheduler set status = 'AVAILABLE', job_id = null, lease_until = null, sweep_pending = false`,
        );
        await db.pool.query(`update job set status = 'DELETED' where status in ('QUEUED', 'IN_PROGRESS')`);
      },
      close,
    };
    return fixture;
  } catch (error) {
    await close();
    throw error;
  }
}

/** startNetHub in beforeAll, closed in afterAll; `options` may be a function (read when the block starts). */
export function useNetHub(options: NetHubOptions | (() => NetHubOptions)): NetHub {
  const fixture = {} as NetHub;
  beforeAll(async () => {
    Object.assign(fixture, await startNetHub(typeof options === 'function' ? options() : options));
  });
  afterAll(async () => {
    await fixture.close?.();
  });
  return fixture;
}
