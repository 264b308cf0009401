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

export interface DispatchRunResult {
  label: string;
  /** jobs completed inside the measuring window */
  completed: number;
  /** jobs completed in the whole run (warm-up and the tail included) */
  totalCompleted: number;
  /** busy share of the driver's (this worker's) event loop: near 1 would mean the driver, not the hub, limits */
  driverEventLoop: number;
  windowMs: number;
  jobsPerSec: number;
  /** queueTraining sent → started on a net (IN_PROGRESS with a backend job id), for jobs queued inside the window */
  queueToStart: Summary;
  errorCount: number;
  errors: string[];
  /** submit_job calls served by each fake net during the run */
  submitsPerNet: number[];
}

export type FromDispatchDriver =
  | { type: 'ready'; netUrls: string[] }
  | { type: 'result'; result: DispatchRunResult }
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

export interface HttpLoadResult {
  requests: number;
  errors: number;
  windowMs: number;
  requestsPerSec: number;
  latency: Summary;
  /** the first response body (shortened), to see what was measured */
  sample: string;
  firstError: string | null;
}
