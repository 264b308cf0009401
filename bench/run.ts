import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { startBenchCluster } from './lib/cluster.js';
import { printTable, writeResults, type Row } from './lib/report.js';
import { measurePickupLatency, pickupLatencyRows } from './measure/pickup-latency.js';

async function main(): Promise<void> {
  const began = performance.now();
  const cluster = await startBenchCluster();
  const rows: Row[] = [];
  const results: Record<string, unknown> = {};
  try {
    const latency = await measurePickupLatency(cluster, { jobs: 200, pollingJobs: 20, warmup: 10 });
    results.pickupLatency = latency;
    rows.push(...pickupLatencyRows(latency));
  } finally {
    await cluster.stop();
  }
  printTable(rows);
  console.log(JSON.stringify(results, null, 2));
  console.log(await writeResults({ rows, results, seconds: (performance.now() - began) / 1000 }));
}

await main();
