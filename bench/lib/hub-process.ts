import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { listeningPortsOf, ownHubPort } from '../../test/support/hub-process.js';
import { GqlClient } from './gql-client.js';
import { benchHubEnvironment, benchToken, type HubOptions } from './hub.js';
import { sleep } from './stats.js';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

/** A hub as its own OS process (`src/main.ts`, as `npm run start:dev` runs it), reached over HTTP only. */
export interface BenchHubProcess {
  readonly pid: number;
  /** http://127.0.0.1:<port>/graphql */
  readonly graphqlUrl: string;
  /** An admin client on a keep-alive agent. */
  readonly gql: GqlClient;
  /** SIGTERM, then SIGKILL if it has not exited in 20 s. */
  close(): Promise<void>;
}

/**
 * Starts a hub process configured like the in-process `startHub`
 * (NODE_ENV=production, logs silent, reconcile off), so that a figure can be
 * read as a client and a net see it: the hub's event loop and heap are its
 * own, not shared with the bench's client, fake nets and listeners.
 */
export async function startHubProcess(
  databaseUrl: string,
  options: HubOptions,
  /** another checkout of the hub to run (`baseline-checkout.ts`); its /health may not name its pid */
  checkout?: string,
): Promise<BenchHubProcess> {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
    cwd: checkout ?? process.cwd(),
    stdio: ['ignore', 'ignore', 'pipe'],
    // SIM_NETS=0: no simulated nets beside the bench's own
    env: { ...process.env, SIM_NETS: '0', ...benchHubEnvironment(databaseUrl, options, 0) },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const exited = once(child, 'exit');
  let alive = true;
  void exited.then(() => (alive = false));
  // it binds port 0: the port is the one of its own sockets whose /health names its pid
  let port: number;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (!alive) throw new Error(`the hub process exited at start-up:\n${stderr}`);
    ({ port } = checkout ? await answeringPort(child.pid as number) : await ownHubPort(child.pid as number));
    if (port !== 0) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the hub process did not answer /health in ${START_TIMEOUT_MS} ms:\n${stderr}`);
    }
    await sleep(100);
  }
  const graphqlUrl = `http://127.0.0.1:${port}/graphql`;
  const gql = new GqlClient(graphqlUrl, await benchToken());
  return {
    pid: child.pid as number,
    graphqlUrl,
    gql,
    close: async () => {
      gql.close();
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The first port process `pid` listens on that answers /health with 200 (a hub of another checkout: its only server). */
async function answeringPort(pid: number): Promise<{ port: number }> {
  for (const candidate of await listeningPortsOf(pid)) {
    const up = await fetch(`http://127.0.0.1:${candidate}/health`, { signal: AbortSignal.timeout(2000) })
      .then((response) => response.status === 200)
      .catch(() => false);
    if (up) return { port: candidate };
  }
  return { port: 0 };
}
