/**
 * Worker thread for measurement 2: serves the fake FL nets and drives the
 * hubs (queueTraining → wait until started → completeTraining), so that the
 * main thread runs nothing but the hubs.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { startFakeNet, type FakeNet } from '../../test/support/fake-net.js';
import { setNetKeepAlive } from '../lib/fake-nets.js';
import { GqlClient } from '../lib/gql-client.js';
import { StartedJobs } from '../lib/started-jobs.js';
import type {
  DispatchDriverInit,
  DispatchRunRequest,
  DispatchRoundResult,
  FromDispatchDriver,
  ToDispatchDriver,
} from './protocol.js';

const QUEUE = 'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }';
const COMPLETE = 'mutation($m: ID!) { completeTraining(modelId: $m) { id } }';
const START_TIMEOUT_MS = 20_000;

function requireParentPort(): MessagePort {
  if (!parentPort) throw new Error('dispatch-driver must run as a worker thread');
  return parentPort;
}

const port = requireParentPort();
const send = (message: FromDispatchDriver) => port.postMessage(message);
const init = workerData as DispatchDriverInit;

async function run(request: DispatchRunRequest, nets: FakeNet[]): Promise<DispatchRoundResult> {
  // runs of an earlier round stay RUNNING on the nets (the hub is told by completeTraining, not by the net): drop them
  for (const net of nets) net.forgetRuns();
  const submitsBefore = nets.map((n) => n.submitCount());
  const started = await StartedJobs.listen(request.databaseUrl);
  const clients = request.hubUrls.map((url) => new GqlClient(url, request.token, 64));
  let turn = 0;
  const next = () => clients[turn++ % clients.length];
  const began = performance.now();
  const windowStart = began + request.warmupMs;
  const end = windowStart + request.durationMs;
  const latencies: number[] = [];
  const errors: string[] = [];
  let errorCount = 0;
  let completed = 0;
  let totalCompleted = 0;
  const elu = performance.eventLoopUtilization();
  try {
    await Promise.all(
      request.modelIds.map(async (modelId) => {
        while (performance.now() < end) {
          try {
            const sentAt = performance.now();
            const queued = await next().ok<{ queueTraining: { id: string } }>(QUEUE, { m: modelId, t: request.trustIds });
            const startedAt = await started.waitFor(queued.queueTraining.id, START_TIMEOUT_MS);
            await next().ok(COMPLETE, { m: modelId });
            const finished = performance.now();
            totalCompleted++;
            if (sentAt >= windowStart && finished <= end) latencies.push(startedAt - sentAt);
            if (finished >= windowStart && finished <= end) completed++;
          } catch (error) {
            errorCount++;
            if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
          }
        }
      }),
    );
  } finally {
    for (const client of clients) client.close();
    await started.close();
  }
  return {
    label: request.label,
    completed,
    totalCompleted,
    driverEventLoop: Math.round(performance.eventLoopUtilization(elu).utilization * 100) / 100,
    windowMs: request.durationMs,
    latencies,
    errorCount,
    errors,
    submitsPerNet: nets.map((n, i) => n.submitCount() - submitsBefore[i]),
  };
}

async function main(): Promise<void> {
  const nets = await Promise.all(Array.from({ length: init.netCount }, () => startFakeNet({ clients: init.clients })));
  for (const net of nets) setNetKeepAlive(net);
  send({ type: 'ready', netUrls: nets.map((n) => n.url) });
  port.on('message', (message: ToDispatchDriver) => {
    if (message.type === 'close') {
      void Promise.all(nets.map((n) => n.close())).then(() => {
        send({ type: 'closed' });
        port.close();
      });
      return;
    }
    run(message, nets).then(
      (result) => send({ type: 'result', result }),
      (error: unknown) =>
        send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
}

main().catch((error: unknown) =>
  send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
