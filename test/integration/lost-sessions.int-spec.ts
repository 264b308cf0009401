import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { testPool } from '../support/database.js';
import type { HubProcess } from '../support/hub-process.js';
import { useNetHubProcess } from '../support/net-hub-process.js';
import { until } from '../support/wait.js';

/**
 * A hub PROCESS (an unhandled 'error' event would kill it) whose database
 * sessions the server cuts: terminated by an administrator, or timed out as
 * idle. The interval cycle never fires here (ten minutes): a queued job can only be
 * dispatched at once by the leader, over a working events connection.
 */
const SLOTS = ['site-1', 'site-2'];
const INSPECTOR = 'fl-test/inspector';
/** the interval cycle: it never fires during a test */
const INTERVAL_MS = 600_000;
const POOL_SESSION_LOST = 'an idle database session was lost';
const EVENTS_LOST = 'change notifications lost';

interface Dispatch {
  instance: string;
  leader: boolean;
  notifications: boolean;
}

/** The hub's dispatch state from /health (`details` holds it whether the check passed or not). */
async function dispatchOf(hub: HubProcess): Promise<Dispatch> {
  const response = await fetch(`${hub.url}/health`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { details: { dispatch: Dispatch } };
  return body.details.dispatch;
}

function occurrences(hub: HubProcess, text: string): number {
  return hub.output().split(text).length - 1;
}

/** The hub's sessions on the database, as PostgreSQL sees them (pool: its instance name; events: `<name>/events`). */
async function hubSessions(inspector: pg.Pool, instance: string) {
  const { rows } = await inspector.query<{ pid: number; application_name: string; state: string; backend_start: Date }>(
    `select pid, application_name, state, backend_start from pg_stat_activity
      where datname = current_database() and application_name in ($1, $1 || '/events')`,
    [instance],
  );
  return {
    pool: rows.filter((row) => row.application_name === instance),
    events: rows.filter((row) => row.application_name !== instance),
  };
}

async function dispatched(inspector: pg.Pool, jobId: string): Promise<void> {
  await until(
    async () => {
      const { rows } = await inspector.query<{ backend_job_id: string | null }>('select backend_job_id from job where id = $1', [
        jobId,
      ]);
      return Boolean(rows[0]?.backend_job_id);
    },
    { what: `job ${jobId} submitted to its net` },
  );
}

function expectNoCrash(hub: HubProcess): void {
  expect(hub.alive()).toBe(true);
  expect(hub.stderr()).not.toMatch(/unhandled|uncaught/i);
}

describe('idle sessions of a running hub terminated with pg_terminate_backend', () => {
  const f = useNetHubProcess({
    name: 'terminated',
    kitSlots: SLOTS,
    hub: { pickupIntervalMs: INTERVAL_MS, reconcileIntervalMs: 0 },
  });
  let inspector: pg.Pool;

  beforeAll(() => {
    inspector = testPool({ connectionString: f.db.url, application_name: INSPECTOR, max: 2 });
  });

  afterAll(async () => {
    await inspector?.end();
  });

  it('logs and replaces them: GraphQL still answers, and a queued job is dispatched at once over the new events connection', async () => {
    await until(async () => (await dispatchOf(f.hub)).leader, { what: 'the hub leads the dispatch' });
    const { instance } = await dispatchOf(f.hub);
    // a few pool sessions at once, all idle afterwards
    await Promise.all([1, 2, 3, 4].map(() => f.hub.gqlOk('{ trusts { id } }')));
    const before = await hubSessions(inspector, instance);
    expect(before.events).toHaveLength(1);
    expect(before.pool.length).toBeGreaterThanOrEqual(1);
    expect([...before.pool, ...before.events].every((session) => session.state === 'idle')).toBe(true);

    const { rows } = await inspector.query<{ gone: boolean }>(
      'select pg_terminate_backend(pid, 10000) as gone from unnest($1::int[]) as pid', // waits until each has exited
      [[...before.pool, ...before.events].map((session) => session.pid)],
    );
    expect(rows.every((row) => row.gone)).toBe(true);

    await until(() => occurrences(f.hub, POOL_SESSION_LOST) >= before.pool.length, {
      what: 'the hub noticed every lost pool session',
    });
    await until(
      async () => {
        const dispatch = await dispatchOf(f.hub);
        return dispatch.notifications && dispatch.leader;
      },
      { what: 'the events connection is back and leads again' },
    );
    expect(occurrences(f.hub, EVENTS_LOST)).toBe(1);
    const after = await hubSessions(inspector, instance);
    expect(after.events.map((session) => session.pid)).not.toEqual(before.events.map((session) => session.pid));

    expect((await f.hub.gqlOk<{ trusts: unknown[] }>('{ trusts { id } }')).trusts).toHaveLength(2);
    const jobId = await f.s.queue(await f.s.newModel());
    await dispatched(inspector, jobId);
    expect(f.net.submitCount()).toBe(1);
    expectNoCrash(f.hub);
  });
});

describe('a database that times idle sessions out after 500 ms (idle_session_timeout)', () => {
  const f = useNetHubProcess({
    name: 'idle-timeout',
    kitSlots: SLOTS,
    hub: { pickupIntervalMs: INTERVAL_MS, reconcileIntervalMs: 0 },
    prepare: async (db) => {
      const name = decodeURIComponent(new URL(db.url).pathname.slice(1));
      await db.pool.query(`alter database "${name}" set idle_session_timeout = '500ms'`);
    },
  });
  let inspector: pg.Pool;

  beforeAll(() => {
    // the inspector's own sessions are exempt, so that its checks never race the timeout
    inspector = testPool({
      connectionString: f.db.url,
      application_name: INSPECTOR,
      max: 2,
      options: '-c idle_session_timeout=0',
    });
  });

  afterAll(async () => {
    await inspector?.end();
  });

  it('keeps working: its sessions exempt themselves, so the server cuts none of them while it cuts a plain one; GraphQL answers and it dispatches at once', async () => {
    await until(async () => (await dispatchOf(f.hub)).leader, { what: 'the hub leads the dispatch' });
    const { instance } = await dispatchOf(f.hub);
    await f.hub.gqlOk('{ trusts { id } }');
    const before = await hubSessions(inspector, instance);
    expect(before.events).toHaveLength(1);
    expect(before.pool.length).toBeGreaterThanOrEqual(1);

    // the timeout is in force: a plain session on the database is cut once idle
    const plain = new pg.Client({ connectionString: f.db.url });
    let plainEnded = false;
    plain.on('error', () => undefined);
    plain.on('end', () => (plainEnded = true));
    await plain.connect();
    await plain.query('select 1');
    await until(() => plainEnded, { what: 'the plain session timed out' });

    // the hub's sessions have idled three times as long, and are still there
    await until(
      async () => {
        const { rows } = await inspector.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
          where datname = current_database() and application_name in ($1, $1 || '/events') and state = 'idle'
            and now() - state_change > interval '1500 ms' and pid = any($2::int[])`,
          [instance, [...before.pool, ...before.events].map((session) => session.pid)],
        );
        return rows[0].n === before.pool.length + before.events.length;
      },
      { what: 'the hub`s sessions idled past 1.5 s' },
    );

    expect((await f.hub.gqlOk<{ trusts: unknown[] }>('{ trusts { id } }')).trusts).toHaveLength(2);
    const jobId = await f.s.queue(await f.s.newModel());
    await dispatched(inspector, jobId);
    expect(f.net.submitCount()).toBe(1);
    const after = await hubSessions(inspector, instance);
    expect(after.events.map((session) => session.pid)).toEqual(before.events.map((session) => session.pid));
    expect(occurrences(f.hub, POOL_SESSION_LOST)).toBe(0);
    expect(occurrences(f.hub, EVENTS_LOST)).toBe(0);
    expect((await dispatchOf(f.hub)).leader).toBe(true);
    expectNoCrash(f.hub);
  });
});
