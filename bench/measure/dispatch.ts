import type { Worker } from 'node:worker_threads';
import type { BenchCluster } from '../lib/cluster.js';
import { cpuProbe, meanCpu, type CpuReport } from '../lib/cpu.js';
import { benchToken, startHub, type BenchHub } from '../lib/hub.js';
import { countCycles, sumCounters, type CycleCounter } from '../lib/instrument.js';
import { profileNote, profileThread, type ProfileSummary } from '../lib/profile.js';
import { fmtRatio, verdict, type Row } from '../lib/report.js';
import { installStartedTrigger, seedFixture, withClient } from '../lib/seed.js';
import { percentile, round, roundSummary, sleep, summarize, type Summary } from '../lib/stats.js';
import { nextMessage, spawnWorker } from '../lib/workers.js';
import type { DispatchDriverInit, DispatchRoundResult, FromDispatchDriver, ToDispatchDriver } from '../workers/protocol.js';
import { prepareClaimCeiling, type CeilingRound } from './dispatch-ceiling.js';

const TARGET_OF_CEILING = 0.12;
/** "3 instances no slower than 1", with room for run-to-run noise */
const TARGET_SCALING = 0.95;
const FIXTURE_TAG = 'dispatch';
const TRUSTS = 2;

export interface DispatchOptions {
  nets: number;
  /** driver loops (one model each): queued + running jobs at any time */
  models: number;
  /**
   * the hub setups, each on a database of its own: N instances, each with
   * DB_POOL_MAX connections; `judged` setups with more than one instance are
   * held to "no slower than 1" (the 1-instance setup is the first)
   */
  setups: Array<{ hubs: number; poolMax: number; judged: boolean }>;
  pickupIntervalMs: number;
  /** the ceiling and each hub count run in turn, this many times (so background noise hits each alike) */
  rounds: number;
  /** per round */
  warmupMs: number;
  durationMs: number;
  ceiling: { connections: number; queued: number };
  /** unmeasured turns of every setup (and the ceiling) before the measured ones */
  warmupRounds: number;
  /** an idle pause before each round, so that a round does not pay for the tail of the one before (GC, autovacuum) */
  settleMs: number;
  /** one more (unmeasured) 1-hub round under the CPU profiler, to show where the hub's thread spends its time */
  profile: boolean;
}

export interface DispatchHubRun {
  hubs: number;
  /** DB_POOL_MAX of each hub */
  poolMax: number;
  judged: boolean;
  rounds: number;
  completed: number;
  windowMs: number;
  jobsPerSec: number;
  /** jobs/s of each round, in the order the rounds ran (alternating with the other setups) */
  roundRates: number[];
  /** queueTraining sent → started on a net, for jobs queued inside the windows */
  queueToStart: Summary;
  errorCount: number;
  errors: string[];
  submitsPerNet: number[];
  driverEventLoop: number;
  /** mean over the rounds */
  cpu: CpuReport;
  /** the hubs' pickup cycles and claim transactions over all rounds, and per completed job */
  cycles: CycleCounter & { cyclesPerJob: number; claimsPerJob: number; emptyClaimShare: number };
}

export interface CeilingResult {
  connections: number;
  cycles: number;
  windowMs: number;
  cyclesPerSec: number;
  cycleLatency: Summary;
  emptyClaims: number;
  cpu: CpuReport;
}

export interface DispatchResult {
  nets: number;
  models: number;
  pickupIntervalMs: number;
  ceiling: CeilingResult;
  runs: DispatchHubRun[];
  profile: ProfileSummary | null;
}

/** A full collection now (when the bench runs with --expose-gc), so that no round inherits another's garbage. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The kit slot names seedFixture gives the trusts of FIXTURE_TAG (the fake nets' online clients). */
function slotNames(): string[] {
  return Array.from({ length: TRUSTS }, (_, i) => `site-${FIXTURE_TAG}-${i + 1}`);
}

async function receive<T extends FromDispatchDriver['type']>(
  worker: Worker,
  type: T,
): Promise<Extract<FromDispatchDriver, { type: T }>> {
  const message = await nextMessage<FromDispatchDriver>(worker);
  if (message.type === 'failed') throw new Error(`dispatch driver failed: ${message.error}`);
  if (message.type !== type) throw new Error(`dispatch driver: expected "${type}", got "${message.type}"`);
  return message as Extract<FromDispatchDriver, { type: T }>;
}

/** A database with `hubCount` hubs on it, driven round by round by the worker. */
interface HubSetup {
  hubCount: number;
  poolMax: number;
  judged: boolean;
  hubs: BenchHub[];
  counters: CycleCounter[];
  url: string;
  modelIds: string[];
  trustIds: string[];
  rounds: Array<DispatchRoundResult & { cpu: CpuReport }>;
  /** jobs completed in unmeasured rounds (warm-up, profile): the cycle counters saw them too */
  unmeasuredJobs: number;
}

/**
 * Measurement 2: dispatch throughput (queueTraining → claim → net calls on a
 * fake net → completeTraining) with `nets` nets, for each hub count, beside
 * the ceiling of the bare claim/complete cycle as plain SQL. The fake nets
 * and the driver run in a worker thread; this thread runs only the hubs.
 * Every setup stays up for the whole measurement and the rounds alternate.
 */
export async function measureDispatch(cluster: BenchCluster, options: DispatchOptions): Promise<DispatchResult> {
  const ceiling = await prepareClaimCeiling(cluster, { ...options.ceiling, nets: options.nets });
  const worker = spawnWorker('dispatch-driver.ts', { netCount: options.nets, clients: slotNames() } satisfies DispatchDriverInit);
  const post = (message: ToDispatchDriver) => worker.postMessage(message);
  const setups: HubSetup[] = [];
  try {
    const { netUrls } = await receive(worker, 'ready');
    const nets = netUrls.map((endpoint, i) => ({ name: `net-${i + 1}`, endpoint }));
    const token = await benchToken();
    for (const [index, { hubs: hubCount, poolMax, judged }] of options.setups.entries()) {
      const url = await cluster.createDatabase(`bench_dispatch_${index + 1}`);
      const fixture = await withClient(url, async (client) => {
        const seeded = await seedFixture(client, { models: options.models, trusts: TRUSTS, tag: FIXTURE_TAG });
        await installStartedTrigger(client);
        return seeded;
      });
      const setup: HubSetup = {
        hubCount,
        poolMax,
        judged,
        unmeasuredJobs: 0,
        hubs: [],
        counters: [],
        url,
        modelIds: fixture.modelIds,
        trustIds: fixture.trustIds,
        rounds: [],
      };
      setups.push(setup);
      for (let i = 0; i < hubCount; i++)
        setup.hubs.push(await startHub(url, { nets, pickupIntervalMs: options.pickupIntervalMs, poolMax }));
      setup.counters = setup.hubs.map((hub) => countCycles(hub.app));
    }

    const drive = async (
      setup: HubSetup,
      warmupMs: number,
      durationMs: number,
    ): Promise<DispatchRoundResult & { cpu: CpuReport }> => {
      const cpu = cpuProbe(cluster.dataDir);
      post({
        type: 'run',
        label: `${setup.hubCount} hub(s) × ${setup.poolMax} connections`,
        hubUrls: setup.hubs.map((h) => h.graphqlUrl),
        token,
        databaseUrl: setup.url,
        modelIds: setup.modelIds,
        trustIds: setup.trustIds,
        warmupMs,
        durationMs,
      });
      const { result } = await receive(worker, 'result');
      return { ...result, cpu: cpu() };
    };

    // the judged setups take turns in alternating order (A B, B A, …), back to back, so that neither always runs
    // right after the other — the hubs share this thread and its heap, and a round pays for the tail of the one
    // before; the setups only shown run first
    const shown = setups.filter((s) => !s.judged);
    const judged = setups.filter((s) => s.judged);
    const turn = (round: number) => [...shown, ...(round % 2 === 0 ? judged : [...judged].reverse())];
    // unmeasured turns first: the JIT, PostgreSQL's caches and the pools warm up (the first turns measured ~half)
    for (let round = 0; round < options.warmupRounds; round++) {
      await ceiling.round(0, Math.min(options.durationMs, 3000));
      for (const setup of turn(round)) {
        collectGarbage();
        setup.unmeasuredJobs += (await drive(setup, options.warmupMs, options.durationMs)).totalCompleted;
      }
    }
    const ceilingRounds: Array<CeilingRound & { cpu: CpuReport }> = [];
    for (let round = 0; round < options.rounds; round++) {
      const cpu = cpuProbe(cluster.dataDir);
      const ceilingRound = await ceiling.round(Math.min(options.warmupMs, 1000), Math.min(options.durationMs, 3000));
      ceilingRounds.push({ ...ceilingRound, cpu: cpu() });
      for (const setup of turn(round)) {
        collectGarbage();
        await sleep(options.settleMs);
        setup.rounds.push(await drive(setup, options.warmupMs, options.durationMs));
      }
    }

    let profile: ProfileSummary | null = null;
    const single = setups.find((s) => s.hubCount === 1) ?? null;
    if (options.profile && single) {
      const profiled = await profileThread('dispatch-1-hub', () => drive(single, 500, 3000));
      profile = profiled.summary;
      single.unmeasuredJobs += profiled.result.totalCompleted;
    }
    post({ type: 'close' });
    await receive(worker, 'closed');

    const ceilingCycles = ceilingRounds.reduce((sum, r) => sum + r.cycles, 0);
    const ceilingWindow = ceilingRounds.reduce((sum, r) => sum + r.windowMs, 0);
    return {
      nets: options.nets,
      models: options.models,
      pickupIntervalMs: options.pickupIntervalMs,
      ceiling: {
        connections: options.ceiling.connections,
        cycles: ceilingCycles,
        windowMs: ceilingWindow,
        cyclesPerSec: (ceilingCycles / ceilingWindow) * 1000,
        cycleLatency: roundSummary(summarize(ceilingRounds.flatMap((r) => r.latencies))),
        emptyClaims: ceilingRounds.reduce((sum, r) => sum + r.emptyClaims, 0),
        cpu: meanCpu(ceilingRounds.map((r) => r.cpu)),
      },
      runs: setups.map((setup) => {
        const completed = setup.rounds.reduce((sum, r) => sum + r.completed, 0);
        const windowMs = setup.rounds.reduce((sum, r) => sum + r.windowMs, 0);
        // the counters also saw the unmeasured rounds: count their jobs too
        const jobs = Math.max(1, setup.rounds.reduce((sum, r) => sum + r.totalCompleted, 0) + setup.unmeasuredJobs);
        const total = sumCounters(setup.counters);
        return {
          hubs: setup.hubCount,
          poolMax: setup.poolMax,
          judged: setup.judged,
          rounds: setup.rounds.length,
          completed,
          windowMs,
          jobsPerSec: (completed / windowMs) * 1000,
          roundRates: setup.rounds.map((r) => round((r.completed / r.windowMs) * 1000)),
          queueToStart: roundSummary(summarize(setup.rounds.flatMap((r) => r.latencies))),
          errorCount: setup.rounds.reduce((sum, r) => sum + r.errorCount, 0),
          errors: setup.rounds.flatMap((r) => r.errors).slice(0, 5),
          submitsPerNet: netUrls.map((_, i) => setup.rounds.reduce((sum, r) => sum + (r.submitsPerNet[i] ?? 0), 0)),
          driverEventLoop: round(setup.rounds.reduce((sum, r) => sum + r.driverEventLoop, 0) / setup.rounds.length),
          cpu: meanCpu(setup.rounds.map((r) => r.cpu)),
          cycles: {
            ...total,
            cyclesPerJob: round(total.cycles / jobs),
            claimsPerJob: round(total.claims / jobs),
            emptyClaimShare: round(total.emptyClaims / Math.max(1, total.claims)),
          },
        };
      }),
      profile,
    };
  } finally {
    for (const setup of setups) for (const hub of setup.hubs) await hub.close();
    await ceiling.close();
    await worker.terminate();
  }
}

export function dispatchRows(result: DispatchResult): Row[] {
  const ceiling = result.ceiling.cyclesPerSec;
  const rows: Row[] = [];
  const one = result.runs.find((r) => r.hubs === 1);
  for (const run of result.runs) {
    const errors = run.errorCount > 0 ? `, ${run.errorCount} errors` : '';
    const ratio = run.jobsPerSec / ceiling;
    rows.push({
      id: '2',
      measurement: `dispatch throughput, ${result.nets} nets, ${run.hubs} hub instance(s) × ${run.poolMax} connections (${run.completed} jobs in ${run.rounds}×${round(run.windowMs / run.rounds / 1000)} s${errors})`,
      figure: `${round(run.jobsPerSec)} jobs/s`,
      peer: `raw SQL claim/complete ceiling ${round(ceiling)} cycles/s`,
      ratio: fmtRatio(ratio),
      target: `≥ ${TARGET_OF_CEILING}× ceiling`,
      verdict: run.errorCount > 0 ? 'ERROR' : verdict(ratio >= TARGET_OF_CEILING),
    });
  }
  for (const run of result.runs) {
    if (!one || run === one) continue;
    // paired rounds (the N-instance and the 1-instance round of the same turn): the median of
    // their ratios is what the verdict uses, so that one round hit by background load does not decide it
    const paired = run.roundRates.map((rate, i) => rate / one.roundRates[i]).sort((a, b) => a - b);
    const ratio = percentile(paired, 50);
    rows.push({
      id: '2',
      measurement: `dispatch scaling: ${run.hubs} instances × ${run.poolMax} connections vs 1 × ${one.poolMax} (median of ${paired.length} paired rounds; overall ${fmtRatio(run.jobsPerSec / one.jobsPerSec)}, rounds ${fmtRatio(paired[0])}–${fmtRatio(paired[paired.length - 1])})`,
      figure: `${round(run.jobsPerSec)} jobs/s`,
      peer: `1 instance ${round(one.jobsPerSec)} jobs/s`,
      ratio: fmtRatio(ratio),
      target: run.judged ? `no slower (≥ ${TARGET_SCALING}×)` : `shown: ${run.hubs * run.poolMax} sessions vs ${one.poolMax}`,
      verdict: run.judged ? verdict(ratio >= TARGET_SCALING) : 'INFO',
    });
  }
  return rows;
}

export function dispatchNotes(result: DispatchResult): string[] {
  const c = result.ceiling;
  const notes = [
    `ceiling: ${c.cycles} cycles in ${c.windowMs} ms on ${c.connections} connections, cycle p50 ${c.cycleLatency.p50} ms; ` +
      `PostgreSQL ${c.cpu.postgresCores ?? '?'} cores, bench thread event loop ${c.cpu.mainThreadEventLoop}`,
  ];
  for (const run of result.runs) {
    notes.push(
      `${run.hubs} hub(s) × ${run.poolMax} connections: hub thread event loop ${run.cpu.mainThreadEventLoop} busy, node process ${run.cpu.nodeProcessCores} cores, ` +
        `PostgreSQL ${run.cpu.postgresCores ?? '?'} cores, driver thread ${run.driverEventLoop}; ` +
        `${run.cycles.cyclesPerJob} pickup cycles and ${run.cycles.claimsPerJob} claim transactions per job ` +
        `(${Math.round(run.cycles.emptyClaimShare * 100)}% of claims found nothing); queue→started p50 ${run.queueToStart.p50} ms ` +
        `with ${result.models} jobs in flight on ${result.nets} nets`,
    );
  }
  if (result.profile) notes.push(profileNote(result.profile));
  return notes;
}
