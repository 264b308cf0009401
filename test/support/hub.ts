/**
 * A whole hub in-process on a test database: `startTestHub(db.url, overrides)` gives `gql` / `gqlOk`
 * (POST /graphql as admin, or with a token from `testToken(roles, { claims })`). Pickup, reconcile and the
 * client-status refresh are off unless asked for. With fake nets and a scenario: useNetHub (net-hub.ts).
 */
import type { INestApplication } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { SignJWT } from 'jose';
import pg from 'pg';
import request from 'supertest';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createHub } from '../../src/hub.js';
import { HUB_INSTANCE_NAME } from '../../src/database/database.tokens.js';
import { PickupService } from '../../src/modules/schedulers/picking-up/pickup.service.js';
import { adminClient, closeBeforeDrop } from './database.js';

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; [key: string]: unknown } }>;
}

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123';

/** A signed HS256 token for the test hubs (default: admin); `claims` adds e.g. `net` or `projects`. */
export async function testToken(
  roles: string[] = ['admin'],
  options: { expiresIn?: string; secret?: string; claims?: Record<string, unknown> } = {},
): Promise<string> {
  return new SignJWT({ ...options.claims, roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`test-${roles.join('-') || 'none'}`)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

export interface TestHub {
  app: INestApplication;
  config: AppConfig;
  /** POST /graphql over supertest. */
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<GqlResponse<T>>;
  /** Like gql, but fails the test on any GraphQL error. */
  gqlOk<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/** How long a test hub may take to close before its close fails, naming its sessions. */
const CLOSE_TIMEOUT_MS = 20_000;

/** How long a GraphQL request to a test hub may go unanswered before it fails, saying what the hub holds. */
const REQUEST_TIMEOUT_MS = 50_000;

/** What a pg pool says of its sessions, and who holds the sessions it has handed out (watchHolders). */
type PoolCounts = { totalCount: number; idleCount: number; waitingCount: number; holders?: Map<pg.PoolClient, string> };

/**
 * Records, for each session the pool hands out, where it was asked for (the asking code's stack), until it
 * is given back: a close that waits for a session never given back can then say who took it.
 */
function watchHolders(pool: pg.Pool & PoolCounts): void {
  const holders = new Map<pg.PoolClient, string>();
  pool.holders = holders;
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
    const askedAt = new Error('asked for here').stack ?? '';
    const client = await connect();
    holders.set(client, `${new Date().toISOString()} ${askedAt}`);
    return client;
  };
  pool.on('release', (_error: unknown, client: pg.PoolClient) => holders.delete(client));
}

const holdersText = (pool: PoolCounts | null) =>
  pool?.holders && pool.holders.size > 0
    ? `; sessions handed out and not given back:\n${[...pool.holders.values()].map((h) => h.split('\n').slice(0, 14).join('\n')).join('\n---\n')}`
    : '';

/**
 * `app.close()`, or, when it has not finished in CLOSE_TIMEOUT_MS, an error naming the hub's database
 * sessions and the last statement of each: a close that never ends (seen once in a fresh-clone run, one idle
 * session of the hub's pool left) otherwise shows only as a hook timeout, and the tests after it fail too.
 */
async function closeOrSayWhy(app: INestApplication, databaseUrl: string, pool: PoolCounts | null): Promise<void> {
  // what the hub itself holds, read before the close changes it: its pickup's cycle and starts in flight
  const service: PickupService = app.get(PickupService);
  const pickup = service as unknown as { current: unknown; starting: Set<unknown>; stopped: boolean };
  const closing = app.close();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS)));
  try {
    if ((await Promise.race([closing, late])) !== 'late') return;
  } finally {
    clearTimeout(timer);
  }
  closing.catch(() => undefined); // it may still end, well after this error
  const instance = app.get<string>(HUB_INSTANCE_NAME);
  const client = await adminClient(databaseUrl);
  try {
    const { rows } = await client.query<{ line: string }>(
      `select format('%s (pid %s) %s since %s, waiting on %s/%s, last statement: %s', application_name, pid, state,
                     state_change, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 300)) as line
         from pg_stat_activity where application_name like $1 || '%' order by backend_start`,
      [instance],
    );
    const held = [
      `pickup: cycle in flight ${pickup.current !== null}, starts in flight ${pickup.starting.size}, stopped ${pickup.stopped}`,
      pool
        ? `pool: ${pool.totalCount} sessions, ${pool.idleCount} idle, ${pool.waitingCount} requests waiting for one`
        : 'pool: not known',
    ];
    throw new Error(
      `test hub ${instance} did not close within ${CLOSE_TIMEOUT_MS} ms; ${held.join('; ')}; its sessions:\n${rows.map((r) => r.line).join('\n')}${holdersText(pool)}`,
    );
  } finally {
    await client.end();
  }
}

/**
 * A whole hub on a test database. Automatic pickup, reconcile and the client-status refresh are off
 * unless asked for, so tests drive cycles explicitly.
 */
export async function startTestHub(databaseUrl: string, overrides: Partial<AppConfig> = {}): Promise<TestHub> {
  const config: AppConfig = {
    ...loadConfig({}),
    nodeEnv: 'test',
    pickupIntervalMs: 0,
    reconcileIntervalMs: 0,
    clientStatusIntervalMs: 0,
    netCallTimeoutMs: 2000,
    logLevel: 'silent',
    authJwtSecret: TEST_JWT_SECRET,
    ...overrides,
  };
  const adminToken = await testToken(['admin']);
  const app = await createHub(config, databaseUrl);
  // the hub's pool, for a close that does not end (closeOrSayWhy)
  const orm: MikroORM = app.get(MikroORM);
  const native: unknown = await orm.em
    .getDriver()
    .getConnection()
    .getNativeClient()
    .catch(() => null);
  const pool = native instanceof pg.Pool ? (native as pg.Pool & PoolCounts) : null;
  if (pool) watchHolders(pool);
  // closed once, by the test or by its database's drop() (which comes first): never a pool alive when the database goes
  let closed: Promise<void> | null = null;
  const forget = closeBeforeDrop(databaseUrl, () => close());
  const close = (): Promise<void> => {
    forget();
    closed ??= closeOrSayWhy(app, databaseUrl, pool);
    return closed;
  };
  const server = app.getHttpServer();
  const gql: TestHub['gql'] = async (query, variables, token = adminToken) => {
    const req = request(server).post('/graphql').set('content-type', 'application/json');
    if (token) req.set('authorization', `Bearer ${token}`);
    const response = await req
      .timeout({ response: REQUEST_TIMEOUT_MS })
      .send({ query, variables })
      .catch((error: unknown) => {
        // a request that never ends otherwise shows only as the test's timeout: say which, and what the hub holds
        if ((error as { timeout?: unknown }).timeout === undefined) throw error;
        const service: PickupService = app.get(PickupService);
        const pickup = service as unknown as { current: unknown; starting: Set<unknown> };
        throw new Error(
          `test hub ${app.get<string>(HUB_INSTANCE_NAME)}: no answer in ${REQUEST_TIMEOUT_MS} ms to ${query.replace(/\s+/g, ' ').slice(0, 120)}; ` +
            `pickup: cycle in flight ${pickup.current !== null}, starts in flight ${pickup.starting.size}; ` +
            (pool
              ? `pool: ${pool.totalCount} sessions, ${pool.idleCount} idle, ${pool.waitingCount} waiting`
              : 'pool: not known'),
        );
      });
    return { status: response.status, data: response.body.data, errors: response.body.errors };
  };
  return {
    app,
    config,
    gql,
    gqlOk: async (query, variables) => {
      const response = await gql(query, variables);
      if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
      return response.data as never;
    },
    close,
  };
}
