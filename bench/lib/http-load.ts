import type { HttpLoadInit, HttpLoadResult, HttpLoadRound } from '../workers/protocol.js';
import { roundSummary, summarize } from './stats.js';
import { runWorker } from './workers.js';

/** One round of HTTP load from a worker thread (bench/workers/http-load.ts). */
export function runHttpLoad(init: HttpLoadInit): Promise<HttpLoadRound> {
  return runWorker<HttpLoadRound>('http-load.ts', init);
}

export function mergeRounds(rounds: readonly HttpLoadRound[]): HttpLoadResult {
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  const windowMs = rounds.reduce((sum, r) => sum + r.windowMs, 0);
  return {
    rounds: rounds.length,
    requests,
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    windowMs,
    requestsPerSec: windowMs > 0 ? (requests / windowMs) * 1000 : 0,
    latency: roundSummary(summarize(rounds.flatMap((r) => r.latencies))),
    sample: rounds[0]?.sample ?? '',
    firstError: rounds.find((r) => r.firstError !== null)?.firstError ?? null,
  };
}
