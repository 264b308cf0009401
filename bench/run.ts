/**
 * `npm run bench`: starts its own embedded PostgreSQL, fake nets and hubs,
 * runs the eight measurements, prints one table (each figure beside its peer
 * from the same run) and writes the same results to bench/results/<time>.json.
 * A missed target is reported, never fatal; the exit code is non-zero only
 * when a measurement fails. `npm run bench -- --only=1,3` runs a subset;
 * `--profile` adds CPU profiles of the hubs' thread (bench/results/*.cpuprofile).
 */
import './lib/node-env.js';
import 'reflect-metadata';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { startBenchCluster, type BenchCluster } from './lib/cluster.js';
import { printTable, writeResults, type Row } from './lib/report.js';
import { round } from './lib/stats.js';
import { claimOrderNotes, claimOrderRows, measureClaimOrder } from './measure/claim-order.js';
import { cycleVsQueueNotes, cycleVsQueueRows, measureCycleVsQueue } from './measure/cycle-vs-queue.js';
import { claimHistoryNotes, claimHistoryRows, measureClaimHistory } from './measure/claim-history.js';
import { dispatchNotes, dispatchRows, measureDispatch } from './measure/dispatch.js';
import { graphqlReadNotes, graphqlReadRows, measureGraphqlReads } from './measure/graphql-reads.js';
import { measurePickupLatency, pickupLatencyNotes, pickupLatencyRows } from './measure/pickup-latency.js';
import { measureQueueView, queueViewNotes, queueViewRows } from './measure/queue-view.js';
import { measureSqlStatements, sqlStatementNotes, sqlStatementRows } from './measure/sql-statements.js';

/** `--profile`: extra, unmeasured runs under the CPU profiler of the hubs' thread (dispatch, nets, jobs). */
const PROFILE = process.argv.includes('--profile');

interface Measurement<R> {
  id: string;
  title: string;
  run(cluster: BenchCluster): Promise<R>;
  rows(result: R): Row[];
  /** evidence printed under the table: where the time goes */
  notes(result: R): string[];
}

const define = <R>(m: Measurement<R>): Measurement<unknown> => m;

const MEASUREMENTS: Array<Measurement<unknown>> = [
  define({
    id: '1',
    title: 'enqueue → IN_PROGRESS latency',
    run: (cluster) =>
      measurePickupLatency(cluster, {
        jobs: 200,
        pollingJobs: 20,
        stockNetJobs: 100,
        processJobs: 200,
        baselineJobs: 200,
        warmup: 10,
      }),
    rows: pickupLatencyRows,
    notes: pickupLatencyNotes,
  }),
  define({
    id: '2',
    title: 'dispatch throughput',
    run: (cluster) =>
      measureDispatch(cluster, {
        nets: 8,
        models: 16,
        // the same 12 database sessions for 1 and for 3 instances, as one sizes the pools of instances sharing a
        // database; and 3 instances with the default pool each (30 sessions on a 2-core PostgreSQL), shown beside
        setups: [
          { hubs: 1, poolMax: 12, judged: true },
          { hubs: 3, poolMax: 4, judged: true },
          { hubs: 3, poolMax: 10, judged: false },
        ],
        pickupIntervalMs: 1000,
        rounds: 12,
        warmupMs: 500,
        durationMs: 2000,
        ceiling: { connections: 8, queued: 20_000 },
        warmupRounds: 2,
        settleMs: 1000,
        profile: PROFILE,
      }),
    rows: dispatchRows,
    notes: dispatchNotes,
  }),
  define({
    id: '3',
    title: 'GraphQL reads',
    run: (cluster) =>
      measureGraphqlReads(cluster, {
        concurrency: 16,
        rounds: 4,
        warmupMs: 500,
        durationMs: 2000,
        nets: 8,
        jobs: 100,
        profile: PROFILE,
      }),
    rows: graphqlReadRows,
    notes: graphqlReadNotes,
  }),
  define({
    id: '4',
    title: 'SQL statements',
    run: (cluster) => measureSqlStatements(cluster, { jobCounts: [10, 1000], repeats: 3, dispatchedJobs: 10 }),
    rows: sqlStatementRows,
    notes: sqlStatementNotes,
  }),
  define({
    id: '5',
    title: 'claim latency vs history',
    run: (cluster) => measureClaimHistory(cluster, { histories: [1000, 1_000_000], samples: 200, warmup: 20 }),
    rows: claimHistoryRows,
    notes: claimHistoryNotes,
  }),
  define({
    id: '6',
    title: 'queue view vs queue length',
    run: (cluster) => measureQueueView(cluster, { sizes: [1000, 10_000], repeats: 7, page: 100 }),
    rows: queueViewRows,
    notes: queueViewNotes,
  }),
  define({
    id: '7',
    title: 'claim cost: DISPATCH_ORDER fair vs fifo, queue size, projects, free nets',
    run: (cluster) =>
      measureClaimOrder(cluster, {
        trusts: 100,
        reference: { jobs: 10_000, projects: 100 },
        queueSizes: [100, 1000, 10_000],
        projectCounts: [10, 100, 1000],
        freeNets: [1, 4, 16],
        defaultFreeNets: 4,
        busyNets: 8,
        samples: 120,
        warmup: 10,
      }),
    rows: claimOrderRows,
    notes: claimOrderNotes,
  }),
  define({
    id: '8',
    title: 'runPickupCycle + completeTraining vs queue length',
    run: (cluster) => measureCycleVsQueue(cluster, { queued: [200, 3000], rounds: 60, warmup: 5 }),
    rows: cycleVsQueueRows,
    notes: cycleVsQueueNotes,
  }),
];

function selected(): Array<Measurement<unknown>> {
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (!only) return MEASUREMENTS;
  const ids = new Set(only.split(','));
  return MEASUREMENTS.filter((m) => ids.has(m.id));
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function main(): Promise<number> {
  const began = performance.now();
  const environment = {
    startedAt: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverageAtStart: os.loadavg().map((l) => round(l)),
  };
  console.log(
    `fl-scheduler bench — node ${environment.node}, ${environment.cpus} CPU(s), load average ${environment.loadAverageAtStart.join(' ')}`,
  );
  const cluster = await startBenchCluster();
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= cluster.stop());
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));

  const rows: Row[] = [];
  const notes: string[] = [];
  const results: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const seconds: Record<string, number> = {};
  try {
    for (const measurement of selected()) {
      const start = performance.now();
      process.stdout.write(`[${measurement.id}] ${measurement.title} … `);
      try {
        const result = await measurement.run(cluster);
        results[measurement.id] = result;
        rows.push(...measurement.rows(result));
        notes.push(...measurement.notes(result).map((note) => `[${measurement.id}] ${note}`));
        seconds[measurement.id] = round((performance.now() - start) / 1000);
        console.log(`${seconds[measurement.id]} s`);
      } catch (error) {
        errors[measurement.id] = describeError(error);
        seconds[measurement.id] = round((performance.now() - start) / 1000);
        console.log(`FAILED after ${seconds[measurement.id]} s\n${errors[measurement.id]}`);
        rows.push({
          id: measurement.id,
          measurement: measurement.title,
          figure: 'failed (see above)',
          peer: '—',
          ratio: '—',
          target: '—',
          verdict: 'ERROR',
        });
      }
    }
  } finally {
    await stop();
  }
  const total = round((performance.now() - began) / 1000);
  const loadAverageAtEnd = os.loadavg().map((l) => round(l));
  console.log('');
  printTable(rows);
  if (notes.length > 0) console.log(`\nWhere the time goes:\n${notes.map((n) => `  ${n}`).join('\n')}`);
  const file = await writeResults({
    environment: { ...environment, loadAverageAtEnd },
    totalSeconds: total,
    seconds,
    rows,
    notes,
    results,
    errors,
  });
  console.log(`\n${total} s in all (load average now ${loadAverageAtEnd.join(' ')}); results in ${file}`);
  return Object.keys(errors).length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(describeError(error));
    process.exit(1);
  },
);
