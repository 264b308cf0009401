import type { Summary } from '../lib/stats.js';

/** Messages between bench/run.ts (main thread: the hubs) and the worker threads (load generators, fake nets). */

export interface DispatchDriverInit {
  netCount: number;
  /** online client names on every fake net (the trusts' kit slot names) */
  clients: string[];
}

export interface DispatchRunRequest {
  type: 'run';
  label: string;
  /** queueTraining / completeTraining go round-robin over these */
  hubUrls: string[];
  token: string;
  databaseUrl: string;
  /** one driver loop per model: queue a job, wait until it is started on a net, complete it, again */
  modelIds: string[];
  trustIds: string[];
  warmupMs: number;
  durationMs: number;
}

export type ToDispatchDriver = DispatchRunRequest | { type: 'close' };

export interface DispatchRoundResult {
  label: string;
  /** jobs completed inside the measuring window */
  completed: number;
  /** jobs completed in the whole round (warm-up and the tail included) */
  totalCompleted: number;
  windowMs: number;
  /** queueTraining sent → started on a net (IN_PROGRESS with a backend job id), ms, for jobs queued inside the window */
  latencies: number[];
  errorCount: number;
  errors: string[];
  /** submit_job calls served by each fake net during the round */
  submitsPerNet: number[];
  /** busy share of the driver's (this worker's) event loop: near 1 would mean the driver, not the hub, limits */
  driverEventLoop: number;
}

export type FromDispatchDriver =
  | { type: 'ready'; netUrls: string[] }
  | { type: 'result'; result: DispatchRoundResult }
  | { type: 'failed'; error: string }
  | { type: 'closed' };

export interface HttpLoadInit {
  url: string;
  body: string;
  headers: Record<string, string>;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

/** One load round as the worker reports it. */
export interface HttpLoadRound {
  /** answered without error inside the window */
  requests: number;
  errors: number;
  windowMs: number;
  /** ms, one per answered request */
  latencies: number[];
  /** the first response body (shortened), to see what was measured */
  sample: string;
  firstError: string | null;
}

/** Rounds of one load merged. */
export interface HttpLoadResult {
  rounds: number;
  requests: number;
  errors: number;
  windowMs: number;
  requestsPerSec: number;
  latency: Summary;
  sample: string;
  firstError: string | null;
}
