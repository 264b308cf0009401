import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Client } from 'graphql-ws';
import pg from 'pg';
import { expectError, expectRejected, UNKNOWN_ID } from '../support/gql.js';
import { testToken } from '../support/hub.js';
import { collect, listen, untilSubscribed, wsClient } from '../support/subscriptions.js';
import { useTwoProjects } from '../support/two-projects.js';
import { until } from '../support/wait.js';

/**
 * Trusts' and projects' limits and holds (issue 13) through /graphql, on the two-projects fixture:
 * A and B each run one job (on net-1 / net-2), a second job of A is queued.
 */

const TRUST_FIELDS = 'id maxConcurrentJobs onHold holdUntil runningJobs';
const PROJECT_FIELDS = 'id maxConcurrentJobs share runningJobs';

const SET_TRUST_LIMIT = `mutation($t: ID!, $max: Int) { setTrustLimit(trustId: $t, maxConcurrentJobs: $max) { ${TRUST_FIELDS} } }`;
const HOLD_TRUST = `mutation($t: ID!, $until: DateTime) { holdTrust(trustId: $t, until: $until) { ${TRUST_FIELDS} } }`;
const RELEASE_TRUST = `mutation($t: ID!) { releaseTrust(trustId: $t) { ${TRUST_FIELDS} } }`;
/** declared variables a call leaves out are left out of the mutation: the setting stays */
const SET_PROJECT_LIMITS = `mutation($p: ID!, $max: Int, $share: Int) {
  setProjectLimits(projectId: $p, maxConcurrentJobs: $max, share: $share) { ${PROJECT_FIELDS} } }`;

interface TrustLimits {
  id: string;
  maxConcurrentJobs: number | null;
  onHold: boolean;
  holdUntil: string | null;
  runningJobs: number;
}
interface ProjectLimits {
  id: string;
  maxConcurrentJobs: number | null;
  share: number;
  runningJobs: number;
}

/** The SQL statements the hub sends while `work` runs (every pg client of this process). */
async function countStatements(work: () => Promise<unknown>): Promise<number> {
  const spy = jest.spyOn(pg.Client.prototype, 'query');
  try {
    await work();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

describe('trust and project limits and holds', () => {
  const f = useTwoProjects();
  let trustA: string;
  let trustB: string;

  beforeAll(() => {
    [trustA, trustB] = [f.a.trustIds[0], f.b.trustIds[0]];
  });

  const trust = async (id: string): Promise<TrustLimits> =>
    (await f.hub.gqlOk<{ trusts: TrustLimits[] }>(`{ trusts { ${TRUST_FIELDS} } }`)).trusts.find((t) => t.id === id)!;
  const project = async (id: string): Promise<ProjectLimits> =>
    (await f.hub.gqlOk<{ projects: ProjectLimits[] }>(`{ projects { ${PROJECT_FIELDS} } }`)).projects.find((p) => p.id === id)!;
  const trustRow = async (id: string) =>
    (
      await f.db.pool.query<{ max: number | null; onHold: boolean; holdUntil: Date | null }>(
        'select max_concurrent_jobs as max, on_hold as "onHold", hold_until as "holdUntil" from trust where id = $1',
        [id],
      )
    ).rows[0];
  const projectRow = async (id: string) =>
    (
      await f.db.pool.query<{ max: number | null; share: number }>(
        'select max_concurrent_jobs as max, share from project where id = $1',
        [id],
      )
    ).rows[0];

  afterEach(async () => {
    // no limit or hold outlives its test (the claim would honour it)
    for (const id of [...f.a.trustIds, ...f.b.trustIds]) {
      await f.hub.gqlOk(SET_TRUST_LIMIT, { t: id, max: null });
      await f.hub.gqlOk(RELEASE_TRUST, { t: id });
    }
    for (const p of [f.a.projectId, f.b.projectId]) await f.hub.gqlOk(SET_PROJECT_LIMITS, { p, max: null, share: 1 });
  });

  it('reads no limit, no hold, share 1, and the jobs running now', async () => {
    const { trusts, projects } = await f.hub.gqlOk<{ trusts: TrustLimits[]; projects: ProjectLimits[] }>(
      `{ trusts { ${TRUST_FIELDS} } projects { ${PROJECT_FIELDS} } }`,
    );
    // each project runs one job naming both its trusts; A's second job is only queued
    expect(trusts.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      [...f.a.trustIds, ...f.b.trustIds]
        .sort()
        .map((id) => ({ id, maxConcurrentJobs: null, onHold: false, holdUntil: null, runningJobs: 1 })),
    );
    expect(projects.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      [f.a.projectId, f.b.projectId].sort().map((id) => ({ id, maxConcurrentJobs: null, share: 1, runningJobs: 1 })),
    );
  });

  it('reads runningJobs batched: as many statements for many trusts and projects as for a few', async () => {
    const QUERY = `{ trusts { ${TRUST_FIELDS} } projects { ${PROJECT_FIELDS} } }`;
    const few = await countStatements(() => f.hub.gqlOk(QUERY));
    for (let i = 0; i < 6; i++) {
      await f.hub.gqlOk('mutation($n: String!) { createTrust(input: { name: $n }) { id } }', { n: `Extra trust ${i}` });
      await f.hub.gqlOk('mutation($n: String!) { createProject(input: { name: $n }) { id } }', { n: `Extra project ${i}` });
    }
    let read: { trusts: TrustLimits[]; projects: ProjectLimits[] } = { trusts: [], projects: [] };
    const many = await countStatements(async () => {
      read = await f.hub.gqlOk(QUERY);
    });
    expect(read.trusts.length).toBeGreaterThanOrEqual(10);
    expect(read.projects.length).toBeGreaterThanOrEqual(8);
    expect(many).toBe(few);
    expect(few).toBeLessThanOrEqual(4); // trusts, projects, and one count each
  });

  it('counts runningJobs as jobs start and end', async () => {
    await f.hub.gqlOk('mutation($m: ID!) { completeTraining(modelId: $m) { id } }', { m: f.modelA });
    expect(await project(f.a.projectId)).toMatchObject({ runningJobs: 0 });
    expect(await trust(trustA)).toMatchObject({ runningJobs: 0 });
    expect(await project(f.b.projectId)).toMatchObject({ runningJobs: 1 });
    // A's queued job takes the freed net
    const { runPickupCycle } = await f.hub.gqlOk('mutation { runPickupCycle { started { id } } }');
    expect(runPickupCycle.started).toEqual([{ id: f.jobA2 }]);
    expect(await project(f.a.projectId)).toMatchObject({ runningJobs: 1 });
    for (const id of f.a.trustIds) expect(await trust(id)).toMatchObject({ runningJobs: 1 });
  });

  describe('setTrustLimit', () => {
    it('sets a limit (0 included), replaces it, and removes it with null or when left out', async () => {
      const set = await f.hub.gqlOk<{ setTrustLimit: TrustLimits }>(SET_TRUST_LIMIT, { t: trustA, max: 2 });
      expect(set.setTrustLimit).toEqual({ id: trustA, maxConcurrentJobs: 2, onHold: false, holdUntil: null, runningJobs: 1 });
      expect(await trustRow(trustA)).toEqual({ max: 2, onHold: false, holdUntil: null });
      expect(await trust(trustA)).toMatchObject({ maxConcurrentJobs: 2 });
      expect(await trust(f.a.trustIds[1])).toMatchObject({ maxConcurrentJobs: null }); // only that trust

      expect((await f.hub.gqlOk(SET_TRUST_LIMIT, { t: trustA, max: 0 })).setTrustLimit.maxConcurrentJobs).toBe(0);
      expect((await trustRow(trustA)).max).toBe(0);
      expect((await f.hub.gqlOk(SET_TRUST_LIMIT, { t: trustA, max: null })).setTrustLimit.maxConcurrentJobs).toBeNull();
      expect((await trustRow(trustA)).max).toBeNull();
      await f.hub.gqlOk(SET_TRUST_LIMIT, { t: trustA, max: 5 });
      expect((await f.hub.gqlOk(SET_TRUST_LIMIT, { t: trustA })).setTrustLimit.maxConcurrentJobs).toBeNull();
      expect((await trustRow(trustA)).max).toBeNull();
    });

    it('is written to the audit log', async () => {
      const before = (await f.db.pool.query<{ id: string }>('select coalesce(max(id), 0) as id from audit_log')).rows[0].id;
      await f.hub.gqlOk(SET_TRUST_LIMIT, { t: trustA, max: 3 });
      await f.hub.gql(SET_TRUST_LIMIT, { t: trustA, max: -3 });
      const { rows } = await f.db.pool.query(
        'select operation, target, outcome, error_code from audit_log where id > $1 order by id',
        [before],
      );
      expect(rows).toEqual([
        { operation: 'setTrustLimit', target: { trustId: trustA, maxConcurrentJobs: 3 }, outcome: 'OK', error_code: null },
        {
          operation: 'setTrustLimit',
          target: { trustId: trustA, maxConcurrentJobs: -3 },
          outcome: 'ERROR',
          error_code: 'BAD_USER_INPUT',
        },
      ]);
    });
  });

  describe('holdTrust / releaseTrust', () => {
    it('holds until released, replaces the hold with a timed one, and releases it', async () => {
      const held = await f.hub.gqlOk<{ holdTrust: TrustLimits }>(HOLD_TRUST, { t: trustA });
      expect(held.holdTrust).toEqual({ id: trustA, maxConcurrentJobs: null, onHold: true, holdUntil: null, runningJobs: 1 });
      expect(await trustRow(trustA)).toEqual({ max: null, onHold: true, holdUntil: null });

      const ends = new Date(Date.now() + 3_600_000);
      const timed = await f.hub.gqlOk<{ holdTrust: TrustLimits }>(HOLD_TRUST, { t: trustA, until: ends.toISOString() });
      expect(timed.holdTrust).toMatchObject({ onHold: true, holdUntil: ends.toISOString() });
      const later = new Date(ends.getTime() - 60_000); // an earlier end replaces a later one too
      const replaced = await f.hub.gqlOk<{ holdTrust: TrustLimits }>(HOLD_TRUST, { t: trustA, until: later.toISOString() });
      expect(replaced.holdTrust).toMatchObject({ onHold: true, holdUntil: later.toISOString() });
      expect(await trustRow(trustA)).toEqual({ max: null, onHold: true, holdUntil: later });
      expect(await trust(trustA)).toMatchObject({ onHold: true, holdUntil: later.toISOString() });
      expect(await trust(trustB)).toMatchObject({ onHold: false, holdUntil: null });

      const released = await f.hub.gqlOk<{ releaseTrust: TrustLimits }>(RELEASE_TRUST, { t: trustA });
      expect(released.releaseTrust).toMatchObject({ onHold: false, holdUntil: null });
      expect(await trustRow(trustA)).toEqual({ max: null, onHold: false, holdUntil: null });
      // releasing a trust that is not held changes nothing, and is no error
      expect((await f.hub.gqlOk<{ releaseTrust: TrustLimits }>(RELEASE_TRUST, { t: trustA })).releaseTrust.onHold).toBe(false);
    });

    it('a hold whose time has passed is over: onHold false, holdUntil null, without a release', async () => {
      const ends = new Date(Date.now() + 1_500);
      const { holdTrust } = await f.hub.gqlOk<{ holdTrust: TrustLimits }>(HOLD_TRUST, { t: trustA, until: ends.toISOString() });
      // answered in the transaction that checked `until` to be ahead of the database clock
      expect(holdTrust).toMatchObject({ onHold: true, holdUntil: ends.toISOString() });
      const over = await until(
        async () => {
          const read = await trust(trustA);
          return read.onHold ? null : read;
        },
        { what: 'the hold read as over' },
      );
      expect(over).toMatchObject({ onHold: false, holdUntil: null });
      expect(Date.now()).toBeGreaterThanOrEqual(ends.getTime());
    });
  });

  describe('setProjectLimits', () => {
    it('changes only the settings given: left out stays, maxConcurrentJobs null removes the limit', async () => {
      const call = async (variables: Record<string, unknown>) =>
        (await f.hub.gqlOk<{ setProjectLimits: ProjectLimits }>(SET_PROJECT_LIMITS, { p: f.a.projectId, ...variables }))
          .setProjectLimits;
      expect(await call({ max: 3, share: 2 })).toEqual({ id: f.a.projectId, maxConcurrentJobs: 3, share: 2, runningJobs: 1 });
      expect(await projectRow(f.a.projectId)).toEqual({ max: 3, share: 2 });
      expect(await call({ share: 5 })).toMatchObject({ maxConcurrentJobs: 3, share: 5 });
      expect(await call({ max: null })).toMatchObject({ maxConcurrentJobs: null, share: 5 });
      expect(await projectRow(f.a.projectId)).toEqual({ max: null, share: 5 });
      expect(await call({})).toMatchObject({ maxConcurrentJobs: null, share: 5 });
      expect(await call({ max: 0 })).toMatchObject({ maxConcurrentJobs: 0, share: 5 });
      // arguments written inline: left out is left out there too
      const inline = await f.hub.gqlOk<{ setProjectLimits: ProjectLimits }>(
        `mutation($p: ID!) { setProjectLimits(projectId: $p, share: 4) { ${PROJECT_FIELDS} } }`,
        { p: f.a.projectId },
      );
      expect(inline.setProjectLimits).toMatchObject({ maxConcurrentJobs: 0, share: 4 });
      expect(await projectRow(f.a.projectId)).toEqual({ max: 0, share: 4 });
      expect(await projectRow(f.b.projectId)).toEqual({ max: null, share: 1 }); // only that project
      expect(await project(f.a.projectId)).toMatchObject({ maxConcurrentJobs: 0, share: 4 });
    });
  });

  describe('refusals write nothing', () => {
    const past = () => new Date(Date.now() - 1_000).toISOString();

    it.each([
      ['setTrustLimit: a negative limit', 'BAD_USER_INPUT', () => [SET_TRUST_LIMIT, { t: trustA, max: -1 }]],
      ['setTrustLimit: not a whole number', 'BAD_USER_INPUT', () => [SET_TRUST_LIMIT, { t: trustA, max: 1.5 }]],
      ['setTrustLimit: an unknown trust', 'NOT_FOUND', () => [SET_TRUST_LIMIT, { t: UNKNOWN_ID, max: 1 }]],
      ['setTrustLimit: a malformed id', 'BAD_USER_INPUT', () => [SET_TRUST_LIMIT, { t: 'trust-a', max: 1 }]],
      ['holdTrust: until in the past', 'BAD_USER_INPUT', () => [HOLD_TRUST, { t: trustA, until: past() }]],
      ['holdTrust: until not a time', 'BAD_USER_INPUT', () => [HOLD_TRUST, { t: trustA, until: 'tomorrow' }]],
      ['holdTrust: an unknown trust', 'NOT_FOUND', () => [HOLD_TRUST, { t: UNKNOWN_ID }]],
      ['holdTrust: a malformed id', 'BAD_USER_INPUT', () => [HOLD_TRUST, { t: '42' }]],
      ['releaseTrust: an unknown trust', 'NOT_FOUND', () => [RELEASE_TRUST, { t: UNKNOWN_ID }]],
      ['releaseTrust: a malformed id', 'BAD_USER_INPUT', () => [RELEASE_TRUST, { t: 'x' }]],
      ['setProjectLimits: share null', 'BAD_USER_INPUT', () => [SET_PROJECT_LIMITS, { p: f.a.projectId, share: null }]],
      ['setProjectLimits: share 0', 'BAD_USER_INPUT', () => [SET_PROJECT_LIMITS, { p: f.a.projectId, share: 0 }]],
      ['setProjectLimits: share -2', 'BAD_USER_INPUT', () => [SET_PROJECT_LIMITS, { p: f.a.projectId, share: -2 }]],
      ['setProjectLimits: share 1.5', 'BAD_USER_INPUT', () => [SET_PROJECT_LIMITS, { p: f.a.projectId, share: 1.5 }]],
      [
        'setProjectLimits: a negative limit (with a good share)',
        'BAD_USER_INPUT',
        () => [SET_PROJECT_LIMITS, { p: f.a.projectId, max: -1, share: 3 }],
      ],
      ['setProjectLimits: an unknown project', 'NOT_FOUND', () => [SET_PROJECT_LIMITS, { p: UNKNOWN_ID, share: 2 }]],
      ['setProjectLimits: an unknown project, nothing to set', 'NOT_FOUND', () => [SET_PROJECT_LIMITS, { p: UNKNOWN_ID }]],
      ['setProjectLimits: a malformed id', 'BAD_USER_INPUT', () => [SET_PROJECT_LIMITS, { p: 'project-a', share: 2 }]],
    ] as Array<[string, string, () => [string, Record<string, unknown>]]>)('%s: %s', async (_label, code, call) => {
      const [mutation, variables] = call();
      await expectRejected(f.hub, f.db.pool, code, mutation, variables);
    });

    it.each(['viewer', 'researcher', 'net'])('a %s token: FORBIDDEN for all four', async (role) => {
      const token = await testToken([role], { claims: { projects: [f.a.projectId], net: 'net-1' } });
      const before = await f.state();
      for (const [mutation, variables] of [
        [SET_TRUST_LIMIT, { t: trustA, max: 1 }],
        [HOLD_TRUST, { t: trustA }],
        [RELEASE_TRUST, { t: trustA }],
        [SET_PROJECT_LIMITS, { p: f.a.projectId, max: 1, share: 2 }],
      ] as Array<[string, Record<string, unknown>]>) {
        expectError(await f.as(token)(mutation, variables), 'FORBIDDEN');
      }
      expect(await f.state()).toEqual(before);
    });
  });

  describe('trustUpdated / projectUpdated', () => {
    const clients: Client[] = [];

    afterAll(async () => {
      for (const client of clients) await client.dispose();
    });

    it('announce limit, hold and share changes; a researcher hears only its own projects', async () => {
      const url = await listen(f.hub);
      const client = (token: string) => {
        const c = wsClient(url, token);
        clients.push(c);
        return c;
      };
      const viewer = client(await testToken(['viewer']));
      const researcherA = client(await testToken(['researcher'], { claims: { projects: [f.a.projectId] } }));
      const trusts = collect<TrustLimits>(viewer, `subscription { trustUpdated { ${TRUST_FIELDS} } }`);
      const projects = collect<ProjectLimits>(viewer, `subscription { projectUpdated { ${PROJECT_FIELDS} } }`);
      const ownProjects = collect<ProjectLimits>(researcherA, `subscription { projectUpdated { ${PROJECT_FIELDS} } }`);
      await untilSubscribed(f.hub, 'trustUpdated');
      await untilSubscribed(f.hub, 'projectUpdated', 2);

      await f.hub.gqlOk(SET_TRUST_LIMIT, { t: trustA, max: 2 });
      await trusts.until((t) => t.id === trustA && t.maxConcurrentJobs === 2);
      const ends = new Date(Date.now() + 3_600_000).toISOString();
      await f.hub.gqlOk(HOLD_TRUST, { t: trustB, until: ends });
      await trusts.until((t) => t.id === trustB && t.onHold && t.holdUntil === ends);
      await f.hub.gqlOk(RELEASE_TRUST, { t: trustB });
      await trusts.until((t) => t.id === trustB && !t.onHold);
      expect(trusts.seen).toEqual([
        { id: trustA, maxConcurrentJobs: 2, onHold: false, holdUntil: null, runningJobs: 1 },
        { id: trustB, maxConcurrentJobs: null, onHold: true, holdUntil: ends, runningJobs: 1 },
        { id: trustB, maxConcurrentJobs: null, onHold: false, holdUntil: null, runningJobs: 1 },
      ]);

      await f.hub.gqlOk(SET_PROJECT_LIMITS, { p: f.b.projectId, share: 3 });
      await f.hub.gqlOk(SET_PROJECT_LIMITS, { p: f.a.projectId, max: 4 });
      await projects.until((p) => p.id === f.a.projectId && p.maxConcurrentJobs === 4);
      expect(projects.seen).toEqual([
        { id: f.b.projectId, maxConcurrentJobs: null, share: 3, runningJobs: 1 },
        { id: f.a.projectId, maxConcurrentJobs: 4, share: 1, runningJobs: 1 },
      ]);
      // B's change came first: by the time A's arrives, B's was passed over
      await ownProjects.until((p) => p.id === f.a.projectId && p.maxConcurrentJobs === 4);
      expect(ownProjects.seen).toEqual([{ id: f.a.projectId, maxConcurrentJobs: 4, share: 1, runningJobs: 1 }]);
      expect([...trusts.errors, ...projects.errors, ...ownProjects.errors]).toEqual([]);
    });
  });
});
