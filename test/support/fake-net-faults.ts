/**
 * The fake net's faults (used through FakeNet.fail / setAutoFinish in fake-net.ts): an HTTP status, a
 * delay, a hang, a reset or a body, per call, for a number of times.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The calls of the FL net HTTP contract (SPEC.md), by name. */
export type NetCallName = 'check_client_status' | 'check_server_status' | 'upload_app' | 'submit_job' | 'list_jobs' | 'abort_job';

/**
 * A misbehaviour injected into one call. `delayMs` runs first; then `reset`,
 * `hang` or `status` decides the answer. A fault with only `delayMs` serves the
 * call normally, late. With `serveFirst` the call takes effect (submit_job
 * creates its run) before the fault replaces its answer; `holdAnswer` serves
 * it and keeps the answer until the test releases it.
 */
export interface Fault {
  /** Answer with this HTTP status instead of serving the call (200 with a garbage `body` makes a malformed answer). */
  status?: number;
  /** Body sent with `status`: a string is sent as is (text/plain), anything else as JSON. Default `{error: 'injected fault'}`. */
  body?: unknown;
  /** Wait this long before answering (a slow net; past the client's timeout, a timeout). */
  delayMs?: number;
  /** Destroy the socket with a TCP reset instead of answering (connection reset). */
  reset?: boolean;
  /** Never answer: the client times out. The socket is closed by `close()`/`stop()`. */
  hang?: boolean;
  /** Serve the call (its effect happens) and then answer with the fault: e.g. a run is created, then 500. */
  serveFirst?: boolean;
  /** Serve the call but hold its answer until `FakeNet.releaseHeld()` (or the net stops). */
  holdAnswer?: boolean;
  /** Only the next `times` calls; default: every call until cleared. */
  times?: number;
}

export type FaultMap = Partial<Record<NetCallName, Fault>>;

/** Injected faults by call, counting down those limited to a number of calls. */
export class FaultTable {
  private readonly faults = new Map<NetCallName, Fault>();

  constructor(initial: FaultMap = {}) {
    for (const [call, fault] of Object.entries(initial) as Array<[NetCallName, Fault]>) this.set(call, fault);
  }

  set(call: NetCallName, fault: Fault): void {
    if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0)) {
      throw new Error(`fault times must be a positive integer, got ${fault.times}`);
    }
    this.faults.set(call, { ...fault });
  }

  clear(call?: NetCallName): void {
    if (call) this.faults.delete(call);
    else this.faults.clear();
  }

  /** The fault to play on this call, if any; counts it against `times`. */
  take(call: NetCallName): Fault | undefined {
    const fault = this.faults.get(call);
    if (!fault) return undefined;
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) this.faults.delete(call);
    }
    return fault;
  }
}

/** Answers held back (`holdAnswer`) until the test releases them. */
export class HeldAnswers {
  private readonly held = new Map<NetCallName, Array<() => void>>();
  private readonly waiters: Array<{ call: NetCallName; count: number; resolve: () => void }> = [];

  count(call: NetCallName): number {
    return this.held.get(call)?.length ?? 0;
  }

  /** Resolves when this answer is released. */
  hold(call: NetCallName): Promise<void> {
    return new Promise((resolve) => {
      this.held.set(call, [...(this.held.get(call) ?? []), resolve]);
      for (const waiter of this.waiters.filter((w) => w.call === call && this.count(call) >= w.count)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  }

  until(call: NetCallName, count: number): Promise<void> {
    if (this.count(call) >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ call, count, resolve }));
  }

  release(call?: NetCallName): void {
    for (const [heldCall, releases] of [...this.held]) {
      if (call !== undefined && heldCall !== call) continue;
      this.held.delete(heldCall);
      for (const release of releases) release();
    }
  }
}

/** Timers that can all be cancelled at once (on close), so no test leaves one behind. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      action();
    }, ms);
    this.pending.add(timer);
  }

  /** Resolves after `ms`; never resolves if the timers are cleared first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  clear(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}

// ---- HTTP plumbing ----

const MAX_BODY_BYTES = 1024 * 1024;

/** The body as parsed JSON, the raw text if it is not JSON, or undefined when empty. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Headers with lower-cased names, repeated values joined. */
export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Plays a fault out on a response. `answered` when the fault took the call
 * over (reset, hang, or an injected status); `serve` when the call should now
 * be served normally (a delay-only fault).
 */
export async function playFault(fault: Fault, res: ServerResponse, timers: Timers): Promise<'answered' | 'serve'> {
  if (fault.delayMs !== undefined && fault.delayMs > 0) await timers.sleep(fault.delayMs);
  if (res.destroyed) return 'answered';
  if (fault.reset) {
    res.socket?.resetAndDestroy();
    return 'answered';
  }
  if (fault.hang) return 'answered';
  if (fault.status === undefined) return 'serve';
  if (typeof fault.body === 'string') {
    res.writeHead(fault.status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(fault.body) });
    res.end(fault.body);
  } else {
    sendJson(res, fault.status, fault.body ?? { error: 'injected fault' });
  }
  return 'answered';
}
