import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { PickupService } from '../../src/modules/schedulers/pickup.service.js';
import { startFakeNet, type NetCallName } from '../../test/support/fake-net.js';
import type { BenchCluster } from '../lib/cluster.js';
import { startHub } from '../lib/hub.js';
import { fmtRatio, verdict, type Row } from '../lib/report.js';
import { installStartedTrigger, seedFixture, withClient } from '../lib/seed.js';
import { StartedJobs } from '../lib/started-jobs.js';
import { fmtPercentiles, roundSummary, summarize, type Summary } from '../lib/stats.js';

const PICKUP_INTERVAL_MS = 1000;
const TARGET_P99_MS = 25;

export interface PickupLatencyOptions {
  /** jobs queued one after another through queueTraining (event-driven pickup) */
  jobs: number;
  /** jobs inserted with plain SQL, so that only the interval picks them up */
  pollingJobs: number;
  warmup: number;
}

export interface PickupLatencyResult {
  pickupIntervalMs: number;
  /** queueTraining sent → job IN_PROGRESS with a backend job id (commit seen through NOTIFY) */
  eventDriven: Summary;
  /** where the event-driven time goes: medians of the segments, ms from the send */
  eventDrivenSegments: { queueResponse: Summary; checkClientStatusAtNet: Summary; submitJobAtNet: Summary };
  /** plain INSERT (no in-process signal) → IN_PROGRESS with a backend job id */
  pollingOnly: Summary;
}

const QUEUE = 'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }';
const COMPLETE = 'mutation($m: ID!) { completeTraining(modelId: $m) { id status } }';

/** What the hub's endRuns does for one job (job COMPLETED, its net AVAILABLE), without telling the hub. */
const COMPLETE_SQL = `with ended as (
    update job set status = 'COMPLETED', completed_at = clock_timestamp(), missing_since = null
    where id = $1 and status = 'IN_PROGRESS' returning id
  ), freed as (
    update scheduler set job_id = null, updated_at = now(), status = 'AVAILABLE', lease_until = null, sweep_pending = false
    where job_id in (select id from ended)
  ) select count(*)::int as ended from ended`;

const INSERT_SQL = `with created as (insert into job (model_id) values ($1) returning id),
    linked as (insert into job_trust (job_id, trust_id) select created.id, t from created, unnest($2::uuid[]) t)
  select id from created`;

/**
 * Measurement 1: enqueue → IN_PROGRESS latency with a free net, jobs queued
 * one after another, PICKUP_INTERVAL_MS=1000. Peer: the same hub picking up
 * jobs inserted with plain SQL, which only the 1 s interval can see.
 */
export async function measurePickupLatency(cluster: BenchCluster, options: PickupLatencyOptions): Promise<PickupLatencyResult> {
  const url = await cluster.createDatabase('bench_latency');
  const fixture = await withClient(url, async (client) => {
    const seeded = await seedFixture(client, { models: 1, trusts: 2, tag: 'latency' });
    await installStartedTrigger(client);
    return seeded;
  });
  const modelId = fixture.modelIds[0];
  const arrivals: Partial<Record<NetCallName, number>> = {};
  const net = await startFakeNet({
    clients: fixture.slotNames,
    onRequest: (request) => {
      if (request.call) arrivals[request.call] ??= performance.now();
    },
  });
  const started = await StartedJobs.listen(url);
  const raw = new pg.Client({ connectionString: url });
  await raw.connect();
  // The hub LISTENs to its own change triggers (fl_events): with them firing, a plain INSERT would be
  // picked up by the event path too. In replica mode this session's writes fire no triggers, so only
  // the interval can see them — the polling-only peer.
  await raw.query('set session_replication_role = replica');
  const hub = await startHub(url, { nets: [{ name: 'net-latency', endpoint: net.url }], pickupIntervalMs: PICKUP_INTERVAL_MS });
  try {
    const eventDriven: number[] = [];
    const segments = { queueResponse: [] as number[], checkClientStatusAtNet: [] as number[], submitJobAtNet: [] as number[] };
    for (let i = 0; i < options.warmup + options.jobs; i++) {
      for (const key of Object.keys(arrivals) as NetCallName[]) delete arrivals[key];
      const sentAt = performance.now();
      const queued = await hub.gql.ok<{ queueTraining: { id: string } }>(QUEUE, { m: modelId, t: fixture.trustIds });
      const respondedAt = performance.now();
      const startedAt = await started.waitFor(queued.queueTraining.id, 10_000);
      if (i >= options.warmup) {
        eventDriven.push(startedAt - sentAt);
        segments.queueResponse.push(respondedAt - sentAt);
        segments.checkClientStatusAtNet.push((arrivals.check_client_status ?? Number.NaN) - sentAt);
        segments.submitJobAtNet.push((arrivals.submit_job ?? Number.NaN) - sentAt);
      }
      await hub.gql.ok(COMPLETE, { m: modelId });
    }
    await hub.app.get(PickupService).idle();

    const pollingOnly: number[] = [];
    for (let i = 0; i < 1 + options.pollingJobs; i++) {
      const sentAt = performance.now();
      const inserted = await raw.query<{ id: string }>(INSERT_SQL, [modelId, fixture.trustIds]);
      const jobId = inserted.rows[0].id;
      const startedAt = await started.waitFor(jobId, 5 * PICKUP_INTERVAL_MS);
      // the first one only aligns the loop with the interval's phase
      if (i > 0) pollingOnly.push(startedAt - sentAt);
      await raw.query(COMPLETE_SQL, [jobId]);
    }
    return {
      pickupIntervalMs: PICKUP_INTERVAL_MS,
      eventDriven: roundSummary(summarize(eventDriven)),
      eventDrivenSegments: {
        queueResponse: roundSummary(summarize(segments.queueResponse)),
        checkClientStatusAtNet: roundSummary(summarize(segments.checkClientStatusAtNet)),
        submitJobAtNet: roundSummary(summarize(segments.submitJobAtNet)),
      },
      pollingOnly: roundSummary(summarize(pollingOnly)),
    };
  } finally {
    await hub.close();
    await raw.end();
    await started.close();
    await net.close();
  }
}

export function pickupLatencyRows(result: PickupLatencyResult): Row[] {
  const { eventDriven, pollingOnly } = result;
  return [
    {
      id: '1',
      measurement: `enqueue → IN_PROGRESS, free net, interval ${result.pickupIntervalMs} ms (n=${eventDriven.n} | peer n=${pollingOnly.n})`,
      figure: fmtPercentiles(eventDriven),
      peer: `polling only (SQL insert): ${fmtPercentiles(pollingOnly)}`,
      ratio: `p99 ${fmtRatio(eventDriven.p99 / pollingOnly.p99)}`,
      target: `p99 ≤ ${TARGET_P99_MS} ms`,
      verdict: verdict(eventDriven.p99 <= TARGET_P99_MS),
    },
  ];
}
