/**
 * Test databases (part of the test kit; see net-hub.ts for the usual entry point):
 *
 *   const db = await createTestDatabase();   // a fresh copy of the migrated template; db.pool to inspect rows
 *   await db.drop();                          // closes what was made on it (hubs, pools), then drops it
 *
 * `testPool` / `adminClient` for extra sessions; `closeBeforeDrop` registers anything else to close first.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from './test-database-server.js';

/** A fresh database for one test file, copied from the migrated template. */
export interface TestDatabase {
  url: string;
  /** A pg pool on it, for setting up and inspecting rows directly. */
  pool: pg.Pool;
  /**
   * Closes, in order, everything still open on this database (hubs, hub
   * processes and pools made on its URL: see `closeBeforeDrop`), waits until
   * PostgreSQL has no session left on it, then drops it. A session that is
   * still there after that wait fails the drop, naming its `application_name`:
   * `drop … with (force)` would terminate it, and its pool would emit 'error'.
   */
  drop(): Promise<void>;
}

/** How long `drop()` waits for the sessions of closed pools and killed processes to leave PostgreSQL. */
const SESSIONS_GONE_TIMEOUT_MS = 20_000;

type Closer = () => Promise<unknown>;

/** Per database name: what must be closed before it is dropped (this module is per test file). */
const owners = new Map<string, Set<Closer>>();

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/**
 * Registers `close` to run when the database at `url` is dropped, before the
 * drop (the last registered runs first). Returns the function that forgets
 * it again: call it when the thing was closed on its own.
 */
export function closeBeforeDrop(url: string, close: Closer): () => void {
  const name = databaseName(url);
  let closers = owners.get(name);
  if (!closers) owners.set(name, (closers = new Set()));
  closers.add(close);
  return () => closers.delete(close);
}

/**
 * A pg pool for a test: an idle session terminated under it (a fault test, a
 * PostgreSQL restart) is dropped from the pool instead of crashing the jest
 * worker with an unhandled 'error' event; ended before its database is dropped.
 */
export function testPool(config: pg.PoolConfig & { connectionString: string }): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined); // the pool has already discarded the session; a query in flight rejects on its own
  const end = pool.end.bind(pool);
  let ended: Promise<void> | null = null;
  const forget = closeBeforeDrop(config.connectionString, () => pool.end());
  // once, whoever comes first (the test or drop()): a second pg `end()` would throw
  pool.end = () => {
    forget();
    ended ??= end();
    return ended;
  };
  return pool;
}

/** A connected pg client with an error handler (see testPool); end it yourself. */
export async function adminClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function testEnv(name: 'FL_TEST_ADMIN_URL' | 'FL_TEST_TEMPLATE'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (npm test), whose global setup starts PostgreSQL`);
  return value;
}

async function closeOwned(name: string): Promise<void> {
  const errors: unknown[] = [];
  // one at a time, newest first: hubs made after a pool close before it
  for (;;) {
    const closers = owners.get(name);
    const last = closers ? [...closers].at(-1) : undefined;
    if (!closers || !last) break;
    closers.delete(last);
    await last().catch((error: unknown) => errors.push(error));
  }
  owners.delete(name);
  if (errors.length > 0) throw new AggregateError(errors, `closing what was open on database ${name} failed`);
}

/** Waits until no session is left on `name`; throws, naming them, if some stay. */
async function awaitNoSessions(admin: pg.Client, name: string): Promise<void> {
  const deadline = Date.now() + SESSIONS_GONE_TIMEOUT_MS;
  for (;;) {
    const { rows } = await admin.query<{ application_name: string; state: string | null }>(
      // client sessions only: an autovacuum worker on it goes with the drop, and nobody is listening to it
      `select application_name, state from pg_stat_activity where datname = $1 and backend_type = 'client backend'`,
      [name],
    );
    if (rows.length === 0) return;
    if (Date.now() > deadline) {
      const sessions = rows.map((row) => `"${row.application_name}" (${row.state ?? 'starting'})`).join(', ');
      throw new Error(
        `database ${name} still has ${rows.length} session(s) ${SESSIONS_GONE_TIMEOUT_MS} ms after everything made on it was closed: ` +
          `${sessions}. Close every pool, client and hub on it before drop(), or make them with testPool / startTestHub.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Drops the database at `url` in the one safe order: everything registered on
 * it is closed (closeBeforeDrop), its sessions are gone, then the drop.
 */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const closing = await closeOwned(name).then(
    () => null,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  const client = await adminClient(withDatabase(url, 'postgres'));
  try {
    // pool.end() resolves once its sessions are asked to end, not when they have
    await awaitNoSessions(client, name);
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
  if (closing) throw closing;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = testEnv('FL_TEST_ADMIN_URL');
  const template = testEnv('FL_TEST_TEMPLATE');
  const name = `fl_test_${template.split('_').pop()}_${randomBytes(6).toString('hex')}`;
  const admin = await adminClient(adminUrl);
  try {
    await admin.query(`create database "${name}" template "${template}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = testPool({ connectionString: url, max: 4 });
  let dropped: Promise<void> | null = null;
  return { url, pool, drop: () => (dropped ??= dropDatabase(url)) };
}
