/**
 * The e2e identity fixture: `const f = useTwoProjects()` — projects A and B, each with a job running on
 * one of two fake nets, a second job of A queued; `f.as(token)` sends GraphQL with a token, `f.state()` is
 * the database's snapshot (snapshot.ts) for "nothing changed".
 */
import { afterAll, beforeAll } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startFakeNet, type FakeNet } from './fake-net.js';
import { startTestHub, type GqlResponse, type TestHub } from './hub.js';
import { createScenario, type Scenario } from './scenario.js';
import { snapshot } from './snapshot.js';
import { until } from './wait.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
export const NET_NAMES = ['net-1', 'net-2'];

/**
 * Two projects, A and B, each with a model running on one of two fake nets
 * (B's job queued first), and a second model of A queued behind them — all
 * made through GraphQL as admin, with pickup driven by hand.
 */
export interface TwoProjects {
  db: TestDatabase;
  hub: TestHub;
  a: Scenario;
  b: Scenario;
  modelA: string;
  jobA: string;
  modelA2: string;
  jobA2: string;
  modelB: string;
  jobB: string;
  netOfA: string;
  netOfB: string;
  /** GraphQL with this token */
  as(token: string | null): (query: string, variables?: Record<string, unknown>) => Promise<GqlResponse<Record<string, any>>>;
  /** What a refused call must leave untouched: every table but the audit log (snapshot.ts). */
  state(): Promise<unknown>;
  /** The net the job runs on (it must be IN_PROGRESS). */
  netRunning(jobId: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTwoProjects(): Promise<TwoProjects> {
  const db = await createTestDatabase();
  const fakeNets: FakeNet[] = await Promise.all(NET_NAMES.map(() => startFakeNet({ clients: SLOTS })));
  const hub = await startTestHub(db.url, {
    netEndpoints: NET_NAMES.map((name, i) => ({ name, endpoint: fakeNets[i].url })),
    kitSlots: SLOTS,
  });
  const netRunning = async (jobId: string): Promise<string> => {
    const { rows } = await db.pool.query<{ name: string }>(
      `select n.name from job j join net n on n.id = j.net_id where j.id = $1 and j.status = 'IN_PROGRESS'`,
      [jobId],
    );
    if (rows.length !== 1) throw new Error(`job ${jobId} runs on ${rows.length} nets`);
    return rows[0].name;
  };
  const a = await createScenario(hub);
  const b = await createScenario(hub);
  const modelB = await b.newModel();
  const jobB = await b.queue(modelB);
  const modelA = await a.newModel();
  const jobA = await a.queue(modelA);
  const { runPickupCycle } = await hub.gqlOk<{ runPickupCycle: { started: Array<{ id: string }> } }>(
    'mutation { runPickupCycle { started { id } } }',
  );
  if (runPickupCycle.started.length !== 2) throw new Error(`expected two starts, got ${JSON.stringify(runPickupCycle)}`);
  // each start's client answer is recorded beside it (net_client), after the cycle has answered: let both land
  // before anyone takes a snapshot, or a late write would look like a change made by a refused call
  await until(
    async () =>
      (await db.pool.query<{ n: number }>('select count(*)::int as n from net_client')).rows[0].n ===
      SLOTS.length * NET_NAMES.length,
    { what: "both starts' client answers recorded" },
  );
  const modelA2 = await a.newModel();
  const jobA2 = await a.queue(modelA2); // both nets busy: it stays QUEUED
  return {
    db,
    hub,
    a,
    b,
    modelA,
    jobA,
    modelA2,
    jobA2,
    modelB,
    jobB,
    netOfA: await netRunning(jobA),
    netOfB: await netRunning(jobB),
    as: (token) => (query, variables) => hub.gql(query, variables, token),
    state: () => snapshot(db.pool),
    netRunning,
    close: async () => {
      await hub.close();
      await Promise.all(fakeNets.map((net) => net.close()));
      await db.drop();
    },
  };
}

/** startTwoProjects in beforeAll, closed in afterAll: its fields are there from the first test on. */
export function useTwoProjects(): TwoProjects {
  const fixture = {} as TwoProjects;
  beforeAll(async () => {
    Object.assign(fixture, await startTwoProjects());
  });
  afterAll(async () => {
    await fixture.close?.();
  });
  return fixture;
}
