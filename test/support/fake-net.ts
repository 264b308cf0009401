/**
 * A fake FL net over real HTTP (SPEC.md's contract): `startFakeNet({ clients, backend })`, then
 * `net.fail(call, fault)`, `net.setClients(…)`, `net.stop()` / `restart()`, and what it saw:
 * `requests`, `requestsTo(call)`, `uploads`, `submitCount(modelId)`, `runByModel(modelId)`.
 * Integration tests usually get one from useNetHub (net-hub.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  FaultTable,
  flattenHeaders,
  HeldAnswers,
  playFault,
  readBody,
  sendJson,
  Timers,
  type Fault,
  type FaultMap,
  type NetCallName,
} from './fake-net-faults.js';

export type { Fault, FaultMap, NetCallName } from './fake-net-faults.js';

export type FlBackend = 'nvflare' | 'flower';
export type RunStatus = 'PENDING' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'STOPPED';

/** One run (backend job) on the fake net. */
export interface Run {
  job_id: string;
  modelId: string;
  status: RunStatus;
  submittedAt: Date;
  /** When it left PENDING/RUNNING. */
  endedAt?: Date;
}

export interface UploadedApp {
  modelId: string;
  body: { project_id: string; cohort_query: string; trusts: string[]; bundle_urls: string[] };
  at: Date;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, as sent (not decoded). */
  path: string;
  /** The contract call it matched; undefined for an unknown route. */
  call?: NetCallName;
  /** Parsed JSON; the raw text if it is not JSON; undefined when empty. */
  body: unknown;
  /** Lower-cased names. */
  headers: Record<string, string>;
  at: Date;
}

export interface FakeNetOptions {
  backend?: FlBackend;
  /** Online client names. */
  clients?: string[];
  offlineClients?: string[];
  /** Port to listen on; default 0 (ephemeral). */
  port?: number;
  /** A new run starts PENDING and turns RUNNING after this many ms; default: it starts RUNNING. */
  pendingMs?: number;
  /** A run turns FINISHED on its own this long after submission (random within [min, max]). */
  autoFinishAfterMs?: number | [number, number];
  faults?: FaultMap;
  onSubmit?: (run: Run) => void;
  onRequest?: (request: RecordedRequest) => void;
  onRunStatus?: (run: Run, previous: RunStatus) => void;
}

const ACTIVE: ReadonlySet<RunStatus> = new Set(['PENDING', 'RUNNING']);
const ONLINE: Record<FlBackend, { online: string; offline: string }> = {
  nvflare: { online: 'ok', offline: 'no_reply' },
  flower: { online: 'CONNECTED', offline: 'DISCONNECTED' },
};

/** Starts a fake FL net on 127.0.0.1 serving the SPEC.md contract. */
export async function startFakeNet(options: FakeNetOptions = {}): Promise<FakeNet> {
  const net = new FakeNet(options);
  await net.restart();
  return net;
}

export class FakeNet {
  readonly backend: FlBackend;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly uploads: UploadedApp[] = [];
  private watermark = 0;
  private boundPort: number;

  private readonly server: Server;
  private readonly faults: FaultTable;
  private readonly timers = new Timers();
  private readonly runTimers = new Timers();
  private readonly runsById = new Map<string, Run>();
  private readonly submitted: string[] = [];
  private online: string[];
  private offline: string[];
  private clientsChangedAt = new Date();
  private startedAt = new Date();
  private listening = false;
  private autoFinishAfterMs: FakeNetOptions['autoFinishAfterMs'];
  private readonly held = new HeldAnswers();

  constructor(private readonly options: FakeNetOptions = {}) {
    this.backend = options.backend ?? 'nvflare';
    this.online = [...(options.clients ?? [])];
    this.offline = [...(options.offlineClients ?? [])];
    this.boundPort = options.port ?? 0;
    this.autoFinishAfterMs = options.autoFinishAfterMs;
    this.faults = new FaultTable(options.faults);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => sendJson(res, 500, { error: String(error) }));
    });
    this.server.keepAliveTimeout = 1000;
  }

  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The highest number of PENDING/RUNNING runs ever seen at once. */
  get maxConcurrentActiveRuns(): number {
    return this.watermark;
  }

  // ---- clients and faults ----

  setClients(online: string[], offline: string[] = []): void {
    this.online = [...online];
    this.offline = [...offline];
    this.clientsChangedAt = new Date();
  }

  /** Injects a fault into a call, e.g. `fail('submit_job', {status: 500, times: 1})`. */
  fail(call: NetCallName, fault: Fault): void {
    this.faults.set(call, fault);
  }

  clearFaults(call?: NetCallName): void {
    this.faults.clear(call);
  }

  /** How many answers of `call` are held (`holdAnswer`) right now. */
  heldCount(call: NetCallName): number {
    return this.held.count(call);
  }

  /** Resolves once `count` answers of `call` are held (the call has taken effect on the net). */
  untilHeld(call: NetCallName, count = 1): Promise<void> {
    return this.held.until(call, count);
  }

  /** Sends the held answers of `call` (default: every call). */
  releaseHeld(call?: NetCallName): void {
    this.held.release(call);
  }

  setAutoFinish(afterMs: FakeNetOptions['autoFinishAfterMs']): void {
    this.autoFinishAfterMs = afterMs;
  }

  // ---- runs ----

  /** Snapshots of all runs known to the net, in submission order. */
  runs(): Run[] {
    return [...this.runsById.values()].map((run) => ({ ...run }));
  }

  /** The latest run of a model. */
  runByModel(modelId: string): Run | undefined {
    return this.runs().findLast((run) => run.modelId === modelId);
  }

  activeRuns(): Run[] {
    return this.runs().filter((run) => ACTIVE.has(run.status));
  }

  /** Successful submit_job calls (for a model), forgotten runs included. */
  submitCount(modelId?: string): number {
    return modelId === undefined ? this.submitted.length : this.submitted.filter((id) => id === modelId).length;
  }

  /** Requests that matched a call. */
  requestsTo(call: NetCallName): RecordedRequest[] {
    return this.requests.filter((request) => request.call === call);
  }

  setRunStatus(jobId: string, status: RunStatus): void {
    const run = this.runsById.get(jobId);
    if (!run) throw new Error(`fake net: no run ${jobId}`);
    this.transition(run, status);
  }

  /** Every active run becomes FINISHED. */
  finishAll(): void {
    for (const run of this.runsById.values()) if (ACTIVE.has(run.status)) this.transition(run, 'FINISHED');
  }

  /** Forgets every run and its timers, as a restarted net would. */
  forgetRuns(): void {
    this.runTimers.clear();
    this.runsById.clear();
  }

  // ---- lifecycle ----

  /** Closes the listening socket and every connection: calls are refused until `restart()`. */
  async stop(): Promise<void> {
    this.timers.clear();
    this.releaseHeld(); // into closed connections: nobody gets them
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens again, on the same port once it has one. */
  async restart(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.boundPort, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.startedAt = new Date();
  }

  async close(): Promise<void> {
    this.runTimers.clear();
    await this.stop();
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-net');
    const route = matchRoute(req.method ?? 'GET', url.pathname);
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      call: route?.call,
      body: await readBody(req),
      headers: flattenHeaders(req),
      at: new Date(),
    };
    this.requests.push(request);
    this.options.onRequest?.(request);
    if (!route) return sendJson(res, 404, { error: `no route ${request.method} ${request.path}` });
    const fault = this.faults.take(route.call);
    if (fault?.serveFirst || fault?.holdAnswer) return this.serveThenFault(route, request.body, fault, res);
    if (fault && (await playFault(fault, res, this.timers)) === 'answered') return;
    const [status, body] = this.serve(route.call, route.param, request.body);
    sendJson(res, status, body);
  }

  /** The call takes effect now; its answer is then held, or replaced by the fault. */
  private async serveThenFault(
    route: { call: NetCallName; param: string },
    requestBody: unknown,
    fault: Fault,
    res: ServerResponse,
  ): Promise<void> {
    const [status, body] = this.serve(route.call, route.param, requestBody);
    if (fault.holdAnswer) await this.held.hold(route.call);
    const replaced = fault.holdAnswer ? 'serve' : await playFault({ ...fault, serveFirst: false }, res, this.timers);
    if (replaced === 'serve') sendJson(res, status, body);
  }

  private serve(call: NetCallName, param: string, body: unknown): [number, unknown] {
    switch (call) {
      case 'check_client_status': {
        const { online, offline } = ONLINE[this.backend];
        const now = new Date().toISOString();
        const stale = this.clientsChangedAt.toISOString();
        return [
          200,
          [
            ...this.online.map((name) => ({ name, status: online, last_connect_time: now })),
            ...this.offline.map((name) => ({ name, status: offline, last_connect_time: stale })),
          ],
        ];
      }
      case 'check_server_status':
        return [200, { status: 'started', start_time: this.startedAt.toISOString() }];
      case 'upload_app': {
        const problem = uploadProblem(body);
        if (problem) return [400, { error: problem }];
        this.uploads.push({ modelId: param, body: body as UploadedApp['body'], at: new Date() });
        return [200, { message: 'uploaded' }];
      }
      case 'submit_job':
        return [200, this.submit(param).job_id];
      case 'list_jobs':
        return [200, [...this.runsById.values()].map(({ job_id, status }) => ({ job_id, status }))];
      case 'abort_job': {
        const run = this.runsById.get(param);
        if (!run) return [404, { error: `unknown job ${param}` }];
        if (ACTIVE.has(run.status)) this.transition(run, 'STOPPED');
        return [200, { job_id: run.job_id, status: run.status }];
      }
    }
  }

  private submit(modelId: string): Run {
    const pending = this.options.pendingMs !== undefined && this.options.pendingMs > 0;
    const run: Run = { job_id: randomUUID(), modelId, status: pending ? 'PENDING' : 'RUNNING', submittedAt: new Date() };
    this.runsById.set(run.job_id, run);
    this.submitted.push(modelId);
    this.updateWatermark();
    if (pending) {
      this.runTimers.after(this.options.pendingMs ?? 0, () => {
        if (run.status === 'PENDING') this.transition(run, 'RUNNING');
      });
    }
    const finishAfter = pickDelay(this.autoFinishAfterMs);
    if (finishAfter !== undefined) {
      this.runTimers.after(finishAfter, () => {
        if (ACTIVE.has(run.status)) this.transition(run, 'FINISHED');
      });
    }
    this.options.onSubmit?.({ ...run });
    return run;
  }

  private transition(run: Run, status: RunStatus): void {
    const previous = run.status;
    if (previous === status) return;
    run.status = status;
    if (ACTIVE.has(status)) delete run.endedAt;
    else run.endedAt ??= new Date();
    this.updateWatermark();
    this.options.onRunStatus?.({ ...run }, previous);
  }

  private updateWatermark(): void {
    let active = 0;
    for (const run of this.runsById.values()) if (ACTIVE.has(run.status)) active += 1;
    this.watermark = Math.max(this.watermark, active);
  }
}

const ROUTES: Array<{ method: string; pattern: RegExp; call: NetCallName }> = [
  { method: 'GET', pattern: /^\/check_client_status\/?$/, call: 'check_client_status' },
  { method: 'GET', pattern: /^\/check_server_status\/?$/, call: 'check_server_status' },
  { method: 'POST', pattern: /^\/upload_app\/([^/]+)$/, call: 'upload_app' },
  { method: 'POST', pattern: /^\/submit_job\/([^/]+)$/, call: 'submit_job' },
  { method: 'GET', pattern: /^\/list_jobs\/?$/, call: 'list_jobs' },
  { method: 'DELETE', pattern: /^\/abort_job\/([^/]+)$/, call: 'abort_job' },
];

function matchRoute(method: string, path: string): { call: NetCallName; param: string } | undefined {
  for (const route of ROUTES) {
    const match = route.method === method ? route.pattern.exec(path) : null;
    if (match) return { call: route.call, param: safeDecode(match[1] ?? '') };
  }
  return undefined;
}

function uploadProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const fields = body as Record<string, unknown>;
  const isStringList = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (typeof fields.project_id !== 'string') return 'project_id must be a string';
  if (typeof fields.cohort_query !== 'string') return 'cohort_query must be a string';
  if (!isStringList(fields.trusts)) return 'trusts must be a list of strings';
  if (!isStringList(fields.bundle_urls)) return 'bundle_urls must be a list of strings';
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function pickDelay(delay: FakeNetOptions['autoFinishAfterMs']): number | undefined {
  if (delay === undefined || typeof delay === 'number') return delay;
  const [min, max] = delay;
  return min + Math.random() * (max - min);
}
