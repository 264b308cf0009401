import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'graphql-ws';
import { testToken } from '../support/hub.js';
import { useNetHub } from '../support/net-hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';
import { until } from '../support/wait.js';
import { collect, listen, wsClient, type Collected } from '../support/subscriptions.js';

const SLOTS = ['site-1', 'site-2', 'site-3', 'site-4'];
const NET_NAMES = ['net-1', 'net-2'];

interface JobEvent {
  id: string;
  status: string;
  model: { id: string };
}
interface SchedulerEvent {
  status: string;
  updatedAt: string;
  net: { name: string };
  job: { id: string } | null;
}

const JOBS = 'subscription { jobUpdated { id status model { id } } }';
const SCHEDULERS = 'subscription { schedulerUpdated { status updatedAt net { name } job { id } } }';

/** Subscriptions filter by project: a researcher of A hears A's jobs only, and sees B's busy net with job null. */
describe('identity in subscriptions', () => {
  const f = useNetHub({ nets: NET_NAMES.map((name) => ({ name })), kitSlots: SLOTS });
  let a: Scenario;
  let b: Scenario;
  let url: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    url = await listen(f.hub);
    a = f.s;
    b = await createScenario(f.hub);
  });

  afterAll(async () => {
    for (const client of clients) await client.dispose();
  });

  function subscribe<T>(token: string, query: string): Collected<T> {
    const client = wsClient(url, token);
    clients.push(client);
    return collect<T>(client, query);
  }

  /** Until every subscription has heard something: changes seen by all (a job of A queued and removed, a net claimed and released). */
  async function untilSubscribed(subscriptions: Array<Collected<unknown>>): Promise<void> {
    const probe = await a.newModel();
    await until(
      async () => {
        if (subscriptions.every((s) => s.seen.length > 0)) return true;
        await a.queue(probe);
        await f.hub.gqlOk('mutation($m: ID!) { removeJobsForModel(modelId: $m) }', { m: probe });
        const { claimAvailableNet } = await f.hub.gqlOk<{ claimAvailableNet: { id: string } }>(
          'mutation { claimAvailableNet { id } }',
        );
        await f.hub.gqlOk('mutation($s: ID!) { revertSchedulerPickup(schedulerId: $s) { id } }', { s: claimAvailableNet.id });
        return false;
      },
      { what: 'every subscription heard something' },
    );
  }

  it("jobUpdated leaves B's jobs out and schedulerUpdated shows B's busy net with job null", async () => {
    const researcher = await testToken(['researcher'], { claims: { projects: [a.projectId] } });
    const viewer = await testToken(['viewer']);
    const researcherJobs = subscribe<JobEvent>(researcher, JOBS);
    const researcherNets = subscribe<SchedulerEvent>(researcher, SCHEDULERS);
    const viewerJobs = subscribe<JobEvent>(viewer, JOBS);
    const viewerNets = subscribe<SchedulerEvent>(viewer, SCHEDULERS);
    const all = [researcherJobs, researcherNets, viewerJobs, viewerNets] as Array<Collected<unknown>>;
    await untilSubscribed(all);

    const modelB = await b.newModel();
    const jobB = await b.queue(modelB);
    const modelA = await a.newModel();
    const jobA = await a.queue(modelA);
    await f.hub.gqlOk('mutation { runPickupCycle { started { id } } }');
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelB });
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: modelA });
    // A's completion is the last change: once each subscriber has it, it has everything before it (commit order)
    await researcherJobs.until((j) => j.id === jobA && j.status === 'COMPLETED');
    await viewerJobs.until((j) => j.id === jobA && j.status === 'COMPLETED');
    const freedAfter = (events: SchedulerEvent[]) => (e: SchedulerEvent) =>
      e.status === 'AVAILABLE' && events.some((earlier) => earlier.job?.id === jobA && earlier.net.name === e.net.name);
    await viewerNets.until(freedAfter(viewerNets.seen));
    await researcherNets.until(freedAfter(researcherNets.seen));

    for (const s of all) expect(s.errors).toEqual([]);
    const statuses = (events: JobEvent[], id: string) =>
      events
        .filter((j) => j.id === id)
        .map((j) => j.status)
        .filter((status, i, list) => status !== list[i - 1]);
    expect(statuses(viewerJobs.seen, jobB)).toEqual(['QUEUED', 'IN_PROGRESS', 'COMPLETED']);
    expect(statuses(researcherJobs.seen, jobB)).toEqual([]);
    expect(researcherJobs.seen.every((j) => j.model.id !== modelB)).toBe(true);
    expect(statuses(researcherJobs.seen, jobA)).toEqual(statuses(viewerJobs.seen, jobA));
    expect(statuses(researcherJobs.seen, jobA)).toContain('COMPLETED');

    // the same scheduler changes (matched by updatedAt), B's job hidden from the researcher
    const withB = viewerNets.seen.filter((e) => e.job?.id === jobB);
    expect(withB.length).toBeGreaterThan(0);
    expect(researcherNets.seen.some((e) => e.job?.id === jobB)).toBe(false);
    for (const event of withB) {
      expect(researcherNets.seen).toContainEqual({ ...event, job: null });
    }
    const withA = viewerNets.seen.filter((e) => e.job?.id === jobA);
    expect(withA.length).toBeGreaterThan(0);
    for (const event of withA) expect(researcherNets.seen).toContainEqual(event);
  });
});
