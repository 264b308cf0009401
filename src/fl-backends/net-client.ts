import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { request } from 'undici';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors.js';
import { MetricsService } from '../observability/metrics.service.js';
import { currentRequestId } from '../observability/request-context.js';
import { callDeadline } from './call-deadline.js';

/** Enough of a net to call it. */
export interface NetRef {
  readonly name: string;
  readonly endpoint: string;
}

export interface ClientStatus {
  name: string;
  status: string;
  last_connect_time?: string | number | null;
}

export type NetRunStatus = 'PENDING' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'STOPPED';

export interface NetRun {
  job_id: string;
  status: NetRunStatus;
}

export interface UploadAppBody {
  project_id: string;
  cohort_query: string;
  trusts: string[];
  bundle_urls: string[];
}

export type NetCall = 'check_client_status' | 'check_server_status' | 'upload_app' | 'submit_job' | 'list_jobs' | 'abort_job';

/** A call to a net failed; says which net, which call, and why. Surfaces as NET_UNAVAILABLE. */
export class NetCallError extends DomainError {
  constructor(
    readonly net: string,
    readonly call: NetCall,
    reason: string,
    readonly httpStatus?: number,
  ) {
    super('NET_UNAVAILABLE', `net "${net}": ${call} failed: ${reason}`, {
      net,
      call,
      ...(httpStatus ? { netHttpStatus: httpStatus } : {}),
    });
    this.name = 'NetCallError';
  }
}

const RUN_STATUSES: ReadonlySet<string> = new Set(['PENDING', 'RUNNING', 'FINISHED', 'FAILED', 'STOPPED']);

/**
 * The hub's HTTP client for FL nets (the contract in SPEC.md), on the
 * platform's HTTP client (undici): a timeout on every call, a request id header, and errors
 * that name the net and the call.
 */
@Injectable()
export class NetClient {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async checkClientStatus(net: NetRef, requestId?: string): Promise<ClientStatus[]> {
    const body = await this.call(net, 'check_client_status', 'GET', '/check_client_status', undefined, requestId);
    if (!Array.isArray(body) || !body.every((c) => isRecord(c) && typeof c.name === 'string' && typeof c.status === 'string')) {
      throw new NetCallError(net.name, 'check_client_status', 'the answer is not a list of {name, status}');
    }
    return body as ClientStatus[];
  }

  async checkServerStatus(net: NetRef, requestId?: string): Promise<{ status: string; start_time?: unknown }> {
    const body = await this.call(net, 'check_server_status', 'GET', '/check_server_status', undefined, requestId);
    if (!isRecord(body) || typeof body.status !== 'string') {
      throw new NetCallError(net.name, 'check_server_status', 'the answer has no status');
    }
    return body as { status: string };
  }

  async uploadApp(net: NetRef, modelId: string, app: UploadAppBody, requestId?: string): Promise<void> {
    await this.call(net, 'upload_app', 'POST', `/upload_app/${encodeURIComponent(modelId)}`, app, requestId);
  }

  /** Starts the run; returns the net's id for it. */
  async submitJob(net: NetRef, modelId: string, requestId?: string): Promise<string> {
    const body = await this.call(net, 'submit_job', 'POST', `/submit_job/${encodeURIComponent(modelId)}`, undefined, requestId);
    if (typeof body !== 'string' || body.length === 0 || body.length > 200) {
      throw new NetCallError(net.name, 'submit_job', 'the answer is not a job id string');
    }
    return body;
  }

  async listJobs(net: NetRef, requestId?: string): Promise<NetRun[]> {
    const body = await this.call(net, 'list_jobs', 'GET', '/list_jobs', undefined, requestId);
    if (!Array.isArray(body)) throw new NetCallError(net.name, 'list_jobs', 'the answer is not a list');
    return body.filter(
      (r): r is NetRun =>
        isRecord(r) && typeof r.job_id === 'string' && typeof r.status === 'string' && RUN_STATUSES.has(r.status),
    );
  }

  /** Aborts a run; `unknown` when the net does not know the id (404). */
  async abortJob(net: NetRef, backendJobId: string, requestId?: string): Promise<'aborted' | 'unknown'> {
    try {
      await this.call(net, 'abort_job', 'DELETE', `/abort_job/${encodeURIComponent(backendJobId)}`, undefined, requestId);
      return 'aborted';
    } catch (error) {
      if (error instanceof NetCallError && error.httpStatus === 404) return 'unknown';
      throw error;
    }
  }

  private async call(
    net: NetRef,
    call: NetCall,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: unknown,
    requestId: string = currentRequestId() ?? randomUUID(),
  ): Promise<unknown> {
    const stopTimer = this.metrics.netCallDuration.startTimer({ call });
    try {
      const body_ = await this.send(net, call, method, path, body, requestId);
      stopTimer({ outcome: 'ok' });
      return body_;
    } catch (error) {
      stopTimer({ outcome: 'error' });
      throw error;
    }
  }

  private async send(
    net: NetRef,
    call: NetCall,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: unknown,
    requestId: string,
  ): Promise<unknown> {
    // One deadline for the whole call (answer and body), cleared as soon as it is over: AbortSignal.timeout
    // would keep the signal, its timer and what the request hangs on it alive for the full timeout after every
    // call. It counts the time the hub was listening (callDeadline): a stall of the hub's own is not the net's.
    const deadline = new AbortController();
    const timer = callDeadline(this.config.netCallTimeoutMs, () =>
      deadline.abort(new DOMException(`no answer within ${this.config.netCallTimeoutMs} ms`, 'TimeoutError')),
    );
    let statusCode: number;
    let text: string;
    try {
      // undici's request rather than fetch: the same HTTP client without the WHATWG Request/Response/stream
      // objects, about half the time and allocation per call
      const response = await request(net.endpoint + path, {
        method,
        headers: {
          accept: 'application/json',
          'x-request-id': requestId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: deadline.signal,
      });
      statusCode = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw new NetCallError(net.name, call, describeFailure(error, this.config.netCallTimeoutMs));
    } finally {
      timer.clear();
    }
    if (statusCode < 200 || statusCode > 299) {
      throw new NetCallError(net.name, call, `HTTP ${statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`, statusCode);
    }
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new NetCallError(net.name, call, 'the answer is not JSON');
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeFailure(error: unknown, timeoutMs: number): string {
  // duck-typed: errors from the HTTP client's internals may come from another realm (e.g. under test runners)
  const name = isRecord(error) || error instanceof Error ? (error as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  const nested = (cause as { errors?: unknown[] } | null)?.errors?.[0] ?? cause;
  const code = (nested as { code?: unknown } | null)?.code ?? (cause as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (typeof code === 'string') return code;
  const message = (cause as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(cause);
}
