import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../config/app-config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { callDeadline } from './call-deadline.js';
import { NetClient } from './net-client.js';

const TIMEOUT_MS = 200;

/** Blocks this thread (nothing else of it runs: no timer, no socket read) for `ms`, and until `also()` holds. */
function stall(ms: number, also: () => boolean = () => true): void {
  const end = performance.now() + ms;
  while (performance.now() < end || !also()) {
    // busy: the hub's process starved
  }
}

/** How long this thread was kept from running (gaps of a 5 ms ticker past 15 ms), from now until `stop()`. */
function watchStalls(): { stop(): number } {
  let last = performance.now();
  let stalledMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - last > 15) stalledMs += now - last - 5;
    last = now;
  }, 5);
  return {
    stop: () => {
      clearInterval(ticker);
      return stalledMs + Math.max(0, performance.now() - last - 15);
    },
  };
}

/**
 * A net in its own thread, so that it answers while the test's thread is
 * stalled: `submit_job` answers at once, `list_jobs` never. `seen` counts the
 * requests it received and the answers it sent (shared memory, readable
 * while this thread waits).
 */
const NET_SOURCE = `
  const { createServer } = require('node:http');
  const { parentPort, workerData } = require('node:worker_threads');
  const seen = new Int32Array(workerData.seen);
  const server = createServer((req, res) => {
    Atomics.add(seen, 0, 1);
    res.on('finish', () => Atomics.add(seen, 1, 1));
    if (req.url.startsWith('/submit_job/')) res.end(JSON.stringify('run-1'));
    // list_jobs: never answered
  });
  server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
  parentPort.on('message', () => { server.closeAllConnections(); server.close(() => parentPort.close()); });
`;

describe('a net call deadline counts the time the hub was listening', () => {
  let worker: Worker;
  let endpoint: string;
  const seen = new Int32Array(new SharedArrayBuffer(8));
  const client = new NetClient(
    { ...loadConfig({}), netCallTimeoutMs: TIMEOUT_MS },
    new MetricsService(undefined as never), // its database gauges are read only at a scrape
  );

  beforeAll(async () => {
    worker = new Worker(NET_SOURCE, { eval: true, workerData: { seen: seen.buffer } });
    const port = await new Promise<number>((resolve) => worker.once('message', resolve));
    endpoint = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    worker.postMessage('close');
    await new Promise((resolve) => worker.once('exit', resolve));
  });

  /** Resolves once the net has received `n` requests in all, without blocking this thread. */
  async function netHasSeen(n: number): Promise<void> {
    while (Atomics.load(seen, 0) < n) await new Promise((resolve) => setImmediate(resolve));
  }

  it('an answer that came while the hub was stalled past the timeout is read, not thrown away', async () => {
    const before = Atomics.load(seen, 0);
    const answered = Atomics.load(seen, 1);
    const submitted = client.submitJob({ name: 'net-w', endpoint }, 'model-1');
    await netHasSeen(before + 1);
    // this thread does not look for 3 timeouts, and not before the net's answer is on the socket
    stall(3 * TIMEOUT_MS, () => Atomics.load(seen, 1) > answered);
    await expect(submitted).resolves.toBe('run-1');
  });

  it('a net that does not answer while the hub runs is still given up on at its timeout', async () => {
    const away = watchStalls();
    const startedAt = performance.now();
    await expect(client.listJobs({ name: 'net-w', endpoint })).rejects.toThrow(`no answer within ${TIMEOUT_MS} ms`);
    const took = performance.now() - startedAt;
    const stalledMs = away.stop();
    expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    // no later than the timeout, a stall's threshold and what a loaded machine stalled this thread (given back twice at most)
    expect(took).toBeLessThan(TIMEOUT_MS + 100 + 2 * stalledMs);
  });

  it('a stalled deadline extends itself by the time the hub was away, up to the timeout, and then fires', async () => {
    let firedAt = 0;
    const startedAt = performance.now();
    const fired = new Promise<void>((resolve) =>
      callDeadline(TIMEOUT_MS, () => {
        firedAt = performance.now();
        resolve();
      }),
    );
    stall(2 * TIMEOUT_MS); // due at 200 ms, seen at 400 ms: 200 ms more are given
    const seenAt = performance.now();
    await fired;
    expect(firedAt - seenAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(firedAt - startedAt).toBeGreaterThanOrEqual(3 * TIMEOUT_MS - 5);
  });

  it('a cleared deadline never fires', async () => {
    let fired = false;
    callDeadline(20, () => (fired = true)).clear();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fired).toBe(false);
  });
});
