/**
 * Worker thread for measurement 3: `concurrency` clients on keep-alive
 * connections POST the same body to one URL as fast as answers come, for
 * warmupMs + durationMs; latencies and counts are kept for the measuring window.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { HttpLoadInit, HttpLoadRound } from './protocol.js';

const init = workerData as HttpLoadInit;

function post(
  agent: Agent,
  target: URL,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(target, { method: 'POST', agent, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<HttpLoadRound> {
  const agent = new Agent({ keepAlive: true, maxSockets: init.concurrency });
  const target = new URL(init.url);
  const body = Buffer.from(init.body);
  const headers = { ...init.headers, 'content-type': 'application/json', 'content-length': String(body.length) };
  const began = performance.now();
  const windowStart = began + init.warmupMs;
  const end = windowStart + init.durationMs;
  const latencies: number[] = [];
  let errors = 0;
  let sample = '';
  let firstError: string | null = null;
  await Promise.all(
    Array.from({ length: init.concurrency }, async () => {
      while (performance.now() < end) {
        const sentAt = performance.now();
        let failure: string | null = null;
        try {
          const { status, text } = await post(agent, target, body, headers);
          if (!sample) sample = text.slice(0, 300);
          if (status !== 200 || text.includes('"errors"')) failure = `HTTP ${status}: ${text.slice(0, 300)}`;
        } catch (error) {
          failure = error instanceof Error ? error.message : String(error);
        }
        const answeredAt = performance.now();
        if (sentAt < windowStart || answeredAt > end) continue;
        if (failure) {
          errors++;
          firstError ??= failure;
        } else {
          latencies.push(answeredAt - sentAt);
        }
      }
    }),
  );
  agent.destroy();
  return { requests: latencies.length, errors, windowMs: init.durationMs, latencies, sample, firstError };
}

main().then(
  (result) => parentPort?.postMessage(result),
  (error: unknown) => {
    throw error;
  },
);
