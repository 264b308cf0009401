import { describe, expect, it } from '@jest/globals';
import { EntityManager } from '@mikro-orm/postgresql';
import { queryOne } from '../../src/database/sql.js';
import { NEXT_START_TIME } from '../../src/modules/jobs/job-timing.sql.js';
import { useNetHub } from '../support/net-hub.js';

const SLOTS = ['site-1', 'site-2'];

const HOLD = 'mutation($t: ID!, $until: DateTime) { holdTrust(trustId: $t, until: $until) { id } }';
const RELEASE = 'mutation($t: ID!) { releaseTrust(trustId: $t) { id } }';
const QUEUE = `mutation($m: ID!, $t: [ID!]!, $o: QueueOptions) { queueTraining(modelId: $m, trustIds: $t, options: $o) { id } }`;

/**
 * What the pickup's wake-up sleeps until (NEXT_START_TIME): the next queued job's start time, or the
 * next end of a hold on a trust a queued job names — whichever comes first.
 */
describe('the wake-up time of the pickup: start times and hold ends', () => {
  // no automatic pickup: the jobs stay QUEUED while the statement is read
  const f = useNetHub({ nets: [{ name: 'net-1' }], kitSlots: SLOTS });

  const nextInMs = async () => (await queryOne(f.hub.app.get(EntityManager).fork(), NEXT_START_TIME))?.inMs ?? null;
  const inAMinute = () => new Date(Date.now() + 60_000).toISOString();
  const queue = async (trustIds: string[], options?: Record<string, unknown>) =>
    (await f.hub.gqlOk(QUEUE, { m: await f.s.newModel(undefined, trustIds), t: trustIds, o: options })).queueTraining.id;

  it('is the end of a timed hold on a trust a queued job names, and nothing for any other hold', async () => {
    const [held, free] = f.s.trustIds;
    await queue([free]);
    expect(await nextInMs()).toBeNull(); // nothing waits for a time

    await f.hub.gqlOk(HOLD, { t: held, until: inAMinute() });
    expect(await nextInMs()).toBeNull(); // no queued job names the held trust

    await queue([held, free]);
    const inMs = await nextInMs();
    expect(inMs).toBeGreaterThan(50_000);
    expect(inMs).toBeLessThanOrEqual(60_000);

    await f.hub.gqlOk(HOLD, { t: held }); // held until released: no time to wake at
    expect(await nextInMs()).toBeNull();
    await f.hub.gqlOk(RELEASE, { t: held });
    expect(await nextInMs()).toBeNull();
    await f.clearJobs();
  });

  it('is the earlier of a start time and a hold end', async () => {
    const [held, free] = f.s.trustIds;
    await f.hub.gqlOk(HOLD, { t: held, until: inAMinute() });
    await queue([held]);
    await queue([free], { notBefore: new Date(Date.now() + 20_000).toISOString() });
    const soon = await nextInMs();
    expect(soon).toBeGreaterThan(10_000);
    expect(soon).toBeLessThanOrEqual(20_000);

    await f.hub.gqlOk(HOLD, { t: held, until: new Date(Date.now() + 5_000).toISOString() }); // replaced: sooner
    const sooner = await nextInMs();
    expect(sooner).toBeGreaterThan(0);
    expect(sooner).toBeLessThanOrEqual(5_000);
    await f.hub.gqlOk(RELEASE, { t: held });
    await f.clearJobs();
  });
});
