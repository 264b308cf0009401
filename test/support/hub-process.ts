/**
 * A hub as a child PROCESS (`npm start`'s entry point), for what only a process shows: signals, SIGKILL,
 * its own sessions. `startHubProcess({ databaseUrl, netEndpoints, … })`; `killAllHubProcesses()` in
 * afterAll. With a test database, a fake net and a scenario: useNetHubProcess (net-hub-process.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { closeBeforeDrop } from './database.js';
import { TEST_JWT_SECRET, testToken, type GqlResponse } from './hub.js';

/**
 * A hub as its own OS process (`src/main.ts`, compiled once per test run into
 * `.test-build/` by the global setup), for tests that SIGKILL or SIGTERM it. Every process started here
 * is tracked: `killAllHubProcesses()` (call it in afterAll) SIGKILLs the ones
 * still alive, and a process-exit hook does the same if a test run dies.
 */
export interface HubProcessOptions {
  databaseUrl: string;
  /** a label for diagnostics (and error messages) */
  name?: string;
  /** net name → base URL (NET_ENDPOINTS) */
  netEndpoints?: Record<string, string>;
  kitSlots?: string[];
  pickupIntervalMs?: number;
  netLeaseMs?: number;
  reconcileIntervalMs?: number;
  runMissingGraceMs?: number;
  netCallTimeoutMs?: number;
  maxStartAttempts?: number;
  flBackend?: 'nvflare' | 'flower';
  /** default `warn` */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** any other variable, or an override (applied last) */
  env?: Record<string, string>;
  /** how long to wait for GET /health to answer 200; default 60 s */
  startTimeoutMs?: number;
}

export interface HubExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() at exit */
  at: number;
  /** since the process was spawned */
  sinceSpawnMs: number;
  /** since the last kill() sent through this handle; null when none was */
  sinceSignalMs: number | null;
}

export interface HubProcess {
  name: string;
  url: string;
  port: number;
  pid: number;
  /** spawn → /health answered 200 */
  startedInMs: number;
  stdout(): string;
  stderr(): string;
  /** both streams, for a failure message */
  output(): string;
  /** true until the process has exited */
  alive(): boolean;
  /** POST /graphql with an admin token (or the given one; null: none); a 10 s timeout per request */
  gql: <T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ) => Promise<GqlResponse<T>>;
  /** like gql, but throws on any GraphQL error */
  gqlOk: <T = Record<string, any>>(query: string, variables?: Record<string, unknown>) => Promise<T>;
  /**
   * The local ports of this process's TCP connections to `remotePort` (e.g. the
   * PostgreSQL port), from /proc (Linux): match them against
   * `pg_stat_activity.client_port` to see exactly which sessions are its own.
   */
  tcpPortsTo(remotePort: number): Promise<number[]>;
  /** sends a signal and remembers when (for `HubExit.sinceSignalMs`) */
  kill(signal: NodeJS.Signals): void;
  /** resolves once, when the process has exited */
  exited: Promise<HubExit>;
}

const ROOT = process.cwd();
const NODE = path.resolve(ROOT, 'node_modules/.bin/node');
const HUB_MAIN = path.resolve(ROOT, '.test-build/src/main.js');
const MAX_CAPTURE = 2 * 1024 * 1024;
const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function environment(options: HubProcessOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: options.databaseUrl,
    PORT: '0', // the port is read from the process's own listening socket
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: options.logLevel ?? 'warn',
    NET_ENDPOINTS: JSON.stringify(options.netEndpoints ?? {}),
    FL_KIT_SLOTS: (options.kitSlots ?? []).join(','),
    CLIENT_STATUS_INTERVAL_MS: '0', // no background calls the fault tests did not ask for
  };
  const numbers: Array<[string, number | undefined]> = [
    ['PICKUP_INTERVAL_MS', options.pickupIntervalMs],
    ['NET_LEASE_MS', options.netLeaseMs],
    ['RECONCILE_INTERVAL_MS', options.reconcileIntervalMs],
    ['RUN_MISSING_GRACE_MS', options.runMissingGraceMs],
    ['NET_CALL_TIMEOUT_MS', options.netCallTimeoutMs],
    ['MAX_START_ATTEMPTS', options.maxStartAttempts],
  ];
  for (const [name, value] of numbers) if (value !== undefined) env[name] = String(value);
  if (options.flBackend) env.FL_BACKEND = options.flBackend;
  // the jest worker's own settings must not leak into the hub
  delete env.EMBEDDED_PG_DIR;
  delete env.EMBEDDED_PG_PORT;
  return { ...env, ...options.env };
}

/**
 * Starts a hub process on a port of its own: it binds port 0 and the port is
 * read from its own listening socket (/proc), so no other process can answer
 * for it (a port picked free here and bound later could be taken meanwhile by
 * any test's server: probes then went to that server for a minute).
 */
export async function startHubProcess(options: HubProcessOptions): Promise<HubProcess> {
  const name = options.name ?? 'hub';
  const spawnedAt = Date.now();
  // the hub compiled once by the test run's global setup (test/support/global-setup.js)
  const child = spawn(NODE, [HUB_MAIN], {
    cwd: ROOT,
    env: environment(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const capture = (text: string, chunk: Buffer) => {
    const next = text + chunk.toString();
    return next.length > MAX_CAPTURE ? next.slice(next.length - MAX_CAPTURE) : next;
  };
  child.stdout.on('data', (chunk: Buffer) => (stdout = capture(stdout, chunk)));
  child.stderr.on('data', (chunk: Buffer) => (stderr = capture(stderr, chunk)));
  let signalAt: number | null = null;
  let hasExited = false;
  const exited = new Promise<HubExit>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      running.delete(child);
      const at = Date.now();
      resolve({ code, signal, at, sinceSpawnMs: at - spawnedAt, sinceSignalMs: signalAt === null ? null : at - signalAt });
    });
  });
  child.once('error', (error) => (stderr += `\n[spawn error] ${String(error)}`));
  // still alive when its database is dropped: SIGKILLed first, so that no session of it is cut by the drop
  const forget = closeBeforeDrop(options.databaseUrl, async () => {
    if (!hasExited) child.kill('SIGKILL');
    await exited;
  });
  void exited.then(forget);
  const output = () => `--- ${name} stdout ---\n${stdout}\n--- ${name} stderr ---\n${stderr}`;

  const deadline = spawnedAt + (options.startTimeoutMs ?? 60_000);
  let port: number;
  for (;;) {
    if (hasExited) throw new Error(`hub process "${name}" exited at start-up (${JSON.stringify(await exited)}):\n${output()}`);
    const probe = await ownHubPort(child.pid as number);
    port = probe.port;
    const lastProbe = probe.lastProbe;
    if (port !== 0) break;
    if (Date.now() > deadline) {
      const sessions = await sessionsOn(options.databaseUrl); // before the kill: what its start was waiting for
      child.kill('SIGKILL');
      await exited;
      throw new Error(
        `hub process "${name}" (pid ${child.pid}) did not answer GET /health with 200 in time; last probe: ${lastProbe}\n${output()}\n${sessions}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = `http://127.0.0.1:${port}`;
  const startedInMs = Date.now() - spawnedAt;

  const adminToken = await testToken(['admin']);
  const gql: HubProcess['gql'] = async (query, variables, token = adminToken) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let body: { data?: unknown; errors?: GqlResponse['errors'] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = { errors: [{ message: `not JSON (HTTP ${response.status}): ${text.slice(0, 200)}` }] };
    }
    return { status: response.status, data: body.data as never, errors: body.errors };
  };

  return {
    name,
    url,
    port,
    pid: child.pid as number,
    startedInMs,
    stdout: () => stdout,
    stderr: () => stderr,
    output,
    alive: () => !hasExited,
    gql,
    gqlOk: async (query, variables) => {
      const response = await gql(query, variables);
      if (response.errors?.length) throw new Error(`GraphQL errors from "${name}": ${JSON.stringify(response.errors)}`);
      return response.data as never;
    },
    tcpPortsTo: (remotePort) => tcpPortsOf(child.pid as number, remotePort),
    kill: (signal) => {
      if (hasExited) return;
      signalAt = Date.now();
      child.kill(signal);
    },
    exited,
  };
}

/** The sessions on a database, with what each waits for and who blocks it (for a start that did not finish). */
async function sessionsOn(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'fl-test-diagnostics' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ line: string }>(
      `select format('%s (pid %s) %s for %s, waiting on %s/%s, blocked by %s: %s', application_name, pid, state,
                     clock_timestamp() - state_change, wait_event_type, wait_event, pg_blocking_pids(pid),
                     left(regexp_replace(query, '\\s+', ' ', 'g'), 160)) as line
         from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() order by backend_start`,
    );
    return `--- sessions on its database ---\n${rows.map((r) => r.line).join('\n')}`;
  } catch (error) {
    return `--- sessions on its database: not read (${String(error)}) ---`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** SIGKILLs every hub process started by this module that is still alive, and waits for them to exit. */
export async function killAllHubProcesses(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * One look for the hub of process `pid`: its own listening sockets only (a
 * simulated net of its own may listen too), each asked GET /health; the port
 * that answers 200 with that pid, else 0, and what the last probe saw.
 */
export async function ownHubPort(pid: number): Promise<{ port: number; lastProbe: string }> {
  const listening = await listeningPortsOf(pid);
  let lastProbe = 'not listening yet';
  for (const candidate of listening) {
    const probeBegan = Date.now();
    const up = await fetch(`http://127.0.0.1:${candidate}/health`, { signal: AbortSignal.timeout(2000) })
      .then(async (response) => {
        const body = (await response.json()) as { info?: { dispatch?: { pid?: number } } };
        lastProbe = `port ${candidate}: HTTP ${response.status}, pid ${body.info?.dispatch?.pid}: ${JSON.stringify(body).slice(0, 400)}`;
        return response.status === 200 && body.info?.dispatch?.pid === pid;
      })
      .catch((error: unknown) => {
        lastProbe = `port ${candidate}: ${String(error)} after ${Date.now() - probeBegan} ms`;
        return false;
      });
    if (up) return { port: candidate, lastProbe };
  }
  return { port: 0, lastProbe };
}

/** The inodes of process `pid`'s sockets (Linux /proc). */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]);
  }
  return inodes;
}

/** Process `pid`'s TCP sockets in `state` (hex, as /proc/net/tcp writes it): local and remote ports. */
async function tcpSocketsOf(pid: number, state: string): Promise<Array<{ local: number; remote: number }>> {
  const inodes = await socketInodes(pid);
  const sockets: Array<{ local: number; remote: number }> = [];
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== state || !inodes.has(fields[9])) continue;
      const port = (address: string) => Number.parseInt(address.split(':').at(-1) ?? '', 16);
      sockets.push({ local: port(fields[1]), remote: port(fields[2]) });
    }
  }
  return sockets;
}

/** The ports process `pid` listens on (Linux /proc). */
export async function listeningPortsOf(pid: number): Promise<number[]> {
  // 0A: LISTEN
  return [...new Set((await tcpSocketsOf(pid, '0A')).map((s) => s.local))].sort((a, b) => a - b);
}

/** Local ports of the established TCP connections that process `pid` holds to `remotePort` (Linux /proc). */
export async function tcpPortsOf(pid: number, remotePort: number): Promise<number[]> {
  // 01: ESTABLISHED
  const sockets = await tcpSocketsOf(pid, '01');
  return sockets
    .filter((s) => s.remote === remotePort)
    .map((s) => s.local)
    .sort((a, b) => a - b);
}
