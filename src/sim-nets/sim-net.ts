import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SimBackend = 'nvflare' | 'flower';
type RunStatus = 'RUNNING' | 'FINISHED' | 'STOPPED';

export interface SimRun {
  job_id: string;
  modelId: string;
  status: RunStatus;
}

export interface SimNetOptions {
  backend?: SimBackend;
  /** clients reported online (the kit slot names the hub sends) */
  clients: readonly string[];
  /** clients reported offline */
  offlineClients?: readonly string[];
  /** each run turns FINISHED this long after submit_job */
  trainMs: number;
  /** 0: any free port */
  port?: number;
  /** one line per call and per run change, for people watching */
  log?: (line: string, kind: 'call' | 'run') => void;
}

export interface SimNet {
  readonly url: string;
  runs(): SimRun[];
  close(): Promise<void>;
}

const CLIENT_STATUS: Record<SimBackend, { online: string; offline: string }> = {
  nvflare: { online: 'ok', offline: 'no_reply' },
  flower: { online: 'CONNECTED', offline: 'DISCONNECTED' },
};
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * A simulated FL net on 127.0.0.1 that serves the net contract (SPEC.md) and
 * "trains" each run for `trainMs`, so a first run needs no real FL server.
 * The tests' fake net (test/support/fake-net.ts) adds fault injection to the same contract.
 */
export async function startSimNet(options: SimNetOptions): Promise<SimNet> {
  const backend = options.backend ?? 'nvflare';
  const log = options.log ?? (() => undefined);
  const runs = new Map<string, SimRun>();
  const timers = new Set<NodeJS.Timeout>();
  const startedAt = new Date().toISOString();

  const setStatus = (run: SimRun, status: RunStatus): void => {
    log(`run ${run.job_id} (model ${run.modelId}): ${run.status} -> ${status}`, 'run');
    run.status = status;
  };

  const serve = (method: string, path: string, body: unknown): [number, unknown] => {
    const [, call = '', param = ''] = /^\/([a-z_]+)(?:\/([^/]+))?\/?$/.exec(path) ?? [];
    const arg = decodeURIComponent(param);
    if (method === 'GET' && call === 'check_client_status' && !param) {
      const { online, offline } = CLIENT_STATUS[backend];
      const now = new Date().toISOString();
      return [
        200,
        [
          ...options.clients.map((name) => ({ name, status: online, last_connect_time: now })),
          ...(options.offlineClients ?? []).map((name) => ({ name, status: offline, last_connect_time: startedAt })),
        ],
      ];
    }
    if (method === 'GET' && call === 'check_server_status' && !param) return [200, { status: 'started', start_time: startedAt }];
    if (method === 'POST' && call === 'upload_app' && param) {
      return typeof body === 'object' && body !== null
        ? [200, { message: 'uploaded' }]
        : [400, { error: 'the body is not a JSON object' }];
    }
    if (method === 'POST' && call === 'submit_job' && param) {
      const run: SimRun = { job_id: randomUUID(), modelId: arg, status: 'RUNNING' };
      runs.set(run.job_id, run);
      log(`run ${run.job_id} (model ${run.modelId}): RUNNING, training for ${options.trainMs} ms`, 'run');
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (run.status === 'RUNNING') setStatus(run, 'FINISHED');
      }, options.trainMs);
      timers.add(timer);
      return [200, run.job_id];
    }
    if (method === 'GET' && call === 'list_jobs' && !param) {
      return [200, [...runs.values()].map(({ job_id, status }) => ({ job_id, status }))];
    }
    if (method === 'DELETE' && call === 'abort_job' && param) {
      const run = runs.get(arg);
      if (!run) return [404, { error: `unknown job ${arg}` }];
      if (run.status === 'RUNNING') setStatus(run, 'STOPPED');
      return [200, { job_id: run.job_id, status: run.status }];
    }
    return [404, { error: `no route ${method} ${path}` }];
  };

  const server: Server = createServer((req, res) => {
    readJson(req).then(
      (body) => {
        const path = new URL(req.url ?? '/', 'http://sim-net').pathname;
        log(`${req.method} ${path}`, 'call');
        send(res, ...serve(req.method ?? 'GET', path, body));
      },
      (error: unknown) => send(res, 400, { error: String(error) }),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    runs: () => [...runs.values()].map((run) => ({ ...run })),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
