import type { BenchCluster } from '../lib/cluster.js';
import { cpuProbe, meanCpu, type CpuReport } from '../lib/cpu.js';
import { GqlClient } from '../lib/gql-client.js';
import { benchToken, startHub } from '../lib/hub.js';
import { profileNote, profileThread, type ProfileSummary } from '../lib/profile.js';
import { fmtRatio, verdict, type Row } from '../lib/report.js';
import { seedFixture, seedJobs, seedRunningJobs, withClient } from '../lib/seed.js';
import { round } from '../lib/stats.js';
import { mergeRounds, runHttpLoad } from '../lib/http-load.js';
import type { HttpLoadInit, HttpLoadResult, HttpLoadRound } from '../workers/protocol.js';
import { startPlainGraphqlServer } from './plain-graphql.js';

export const QUERIES = {
  floor: '{ __typename }',
  nets: '{ nets { name scheduler { status job { id } } } }',
  jobs: '{ jobs { id status model { name project { name } } trusts { name } net { name } } }',
} as const;

const TARGET_NETS_OF_FLOOR = 0.6;
const TARGET_JOBS_OF_PLAIN = 0.5;

export interface ReadOptions {
  concurrency: number;
  /** the four loads run in turn, this many times (so background noise hits each alike) */
  rounds: number;
  /** per load and round */
  warmupMs: number;
  durationMs: number;
  nets: number;
  /** jobs in the table: one running per net, the rest split COMPLETED / QUEUED */
  jobs: number;
  /** extra (unmeasured) loads of `nets` and `jobs` under the CPU profiler of the hub's thread */
  profile: boolean;
}

export interface ReadResult {
  concurrency: number;
  jobs: number;
  nets: number;
  hubFloor: HttpLoadResult;
  hubNets: HttpLoadResult;
  hubJobs: HttpLoadResult;
  plainJobs: HttpLoadResult;
  /** where the CPU went during each load (the server's thread is this one; the clients run in a worker) */
  cpu: Record<'hubFloor' | 'hubNets' | 'hubJobs' | 'plainJobs', CpuReport>;
  profiles: ProfileSummary[];
}

function loadInit(
  url: string,
  query: string,
  token: string | null,
  timing: { concurrency: number; warmupMs: number; durationMs: number },
): HttpLoadInit {
  return {
    url,
    body: JSON.stringify({ query }),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    concurrency: timing.concurrency,
    warmupMs: timing.warmupMs,
    durationMs: timing.durationMs,
  };
}

/**
 * Measurement 3: GraphQL read throughput and p99 with `concurrency` clients
 * (worker thread, keep-alive): the framework floor, `nets`, and `jobs` over
 * `jobs` rows beside the same query answered by plain graphql-js.
 */
export async function measureGraphqlReads(cluster: BenchCluster, options: ReadOptions): Promise<ReadResult> {
  const url = await cluster.createDatabase('bench_reads');
  const nets = Array.from({ length: options.nets }, (_, i) => ({
    name: `read-net-${i + 1}`,
    endpoint: `http://127.0.0.1:9/read-${i + 1}`,
  }));
  const hub = await startHub(url, { nets, pickupIntervalMs: 0 });
  const plain = await startPlainGraphqlServer(url);
  try {
    await withClient(url, async (client) => {
      const fixture = await seedFixture(client, { models: 10, trusts: 3, tag: 'reads' });
      const netIds = (await client.query<{ id: string }>('select id from net order by name')).rows.map((r) => r.id);
      const rest = options.jobs - netIds.length;
      const completed = Math.ceil(rest * 0.65);
      await seedJobs(client, {
        count: completed,
        status: 'COMPLETED',
        modelIds: fixture.modelIds,
        trustIds: fixture.trustIds.slice(0, 2),
        netIds,
      });
      await seedRunningJobs(client, { modelIds: fixture.modelIds, trustIds: fixture.trustIds.slice(1), netIds });
      await seedJobs(client, {
        count: rest - completed,
        status: 'QUEUED',
        modelIds: fixture.modelIds,
        trustIds: fixture.trustIds.slice(0, 2),
      });
      await client.query('vacuum analyze');
    });
    // both answer the same rows
    const hubJobs = await hub.gql.ok<{ jobs: Array<{ id: string }> }>(QUERIES.jobs);
    const plainClient = new GqlClient(plain.url);
    const plainJobs = await plainClient.ok<{ jobs: Array<{ id: string }> }>(QUERIES.jobs).finally(() => plainClient.close());
    if (hubJobs.jobs.length !== options.jobs || hubJobs.jobs.map((j) => j.id).join() !== plainJobs.jobs.map((j) => j.id).join()) {
      throw new Error(
        `the hub answered ${hubJobs.jobs.length} jobs and plain graphql-js ${plainJobs.jobs.length}; expected ${options.jobs} each, same order`,
      );
    }
    const token = await benchToken(['viewer']);
    const loads = {
      hubFloor: loadInit(hub.graphqlUrl, QUERIES.floor, token, options),
      hubNets: loadInit(hub.graphqlUrl, QUERIES.nets, token, options),
      hubJobs: loadInit(hub.graphqlUrl, QUERIES.jobs, token, options),
      plainJobs: loadInit(plain.url, QUERIES.jobs, null, options),
    };
    const rounds: Record<keyof typeof loads, HttpLoadRound[]> = { hubFloor: [], hubNets: [], hubJobs: [], plainJobs: [] };
    const cpu: Record<keyof typeof loads, CpuReport[]> = { hubFloor: [], hubNets: [], hubJobs: [], plainJobs: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const name of Object.keys(loads) as Array<keyof typeof loads>) {
        const probe = cpuProbe(cluster.dataDir);
        rounds[name].push(await runHttpLoad(loads[name]));
        cpu[name].push(probe());
      }
    }
    const result: ReadResult = {
      concurrency: options.concurrency,
      jobs: options.jobs,
      nets: options.nets,
      hubFloor: mergeRounds(rounds.hubFloor),
      hubNets: mergeRounds(rounds.hubNets),
      hubJobs: mergeRounds(rounds.hubJobs),
      plainJobs: mergeRounds(rounds.plainJobs),
      cpu: {
        hubFloor: meanCpu(cpu.hubFloor),
        hubNets: meanCpu(cpu.hubNets),
        hubJobs: meanCpu(cpu.hubJobs),
        plainJobs: meanCpu(cpu.plainJobs),
      },
      profiles: [],
    };
    if (options.profile) {
      const short = { concurrency: options.concurrency, warmupMs: 500, durationMs: 3000 };
      for (const name of ['nets', 'jobs'] as const) {
        const init = loadInit(hub.graphqlUrl, QUERIES[name], token, short);
        const { summary } = await profileThread(`reads-${name}`, () => runHttpLoad(init));
        result.profiles.push(summary);
      }
    }
    return result;
  } finally {
    await plain.close();
    await hub.close();
  }
}

const throughput = (r: HttpLoadResult) =>
  `${round(r.requestsPerSec)} req/s, p99 ${round(r.latency.p99)} ms${r.errors ? `, ${r.errors} errors` : ''}`;

export function graphqlReadRows(result: ReadResult): Row[] {
  const c = `${result.concurrency} clients, ${result.hubFloor.rounds}×${round(result.hubFloor.windowMs / result.hubFloor.rounds / 1000)} s`;
  const netsRatio = result.hubNets.requestsPerSec / result.hubFloor.requestsPerSec;
  const jobsRatio = result.hubJobs.requestsPerSec / result.plainJobs.requestsPerSec;
  const errored = (...runs: HttpLoadResult[]) => runs.some((r) => r.errors > 0);
  return [
    {
      id: '3',
      measurement: `GraphQL { __typename } (framework floor), ${c}`,
      figure: throughput(result.hubFloor),
      peer: '—',
      ratio: '—',
      target: '—',
      verdict: errored(result.hubFloor) ? 'ERROR' : 'INFO',
    },
    {
      id: '3',
      measurement: `GraphQL nets { name scheduler { status job { id } } } (${result.nets} nets), ${c}`,
      figure: throughput(result.hubNets),
      peer: `floor ${throughput(result.hubFloor)}`,
      ratio: fmtRatio(netsRatio),
      target: `≥ ${TARGET_NETS_OF_FLOOR}× floor`,
      verdict: errored(result.hubNets) ? 'ERROR' : verdict(netsRatio >= TARGET_NETS_OF_FLOOR),
    },
    {
      id: '3',
      measurement: `GraphQL jobs { … model { project } trusts net } (${result.jobs} jobs), ${c}`,
      figure: throughput(result.hubJobs),
      peer: `plain graphql-js + 1 SQL: ${throughput(result.plainJobs)}`,
      ratio: fmtRatio(jobsRatio),
      target: `≥ ${TARGET_JOBS_OF_PLAIN}× plain`,
      verdict: errored(result.hubJobs, result.plainJobs) ? 'ERROR' : verdict(jobsRatio >= TARGET_JOBS_OF_PLAIN),
    },
  ];
}

export function graphqlReadNotes(result: ReadResult): string[] {
  const p50 = (r: HttpLoadResult) => `${r.latency.p50} ms`;
  const perRequest = (r: HttpLoadResult, c: CpuReport) =>
    `${round((c.mainThreadEventLoop * 1000) / r.requestsPerSec)} ms server thread + ${round(((c.postgresCores ?? Number.NaN) * 1000) / r.requestsPerSec)} ms PostgreSQL`;
  const c = result.cpu;
  return [
    `p50 latency: floor ${p50(result.hubFloor)}, nets ${p50(result.hubNets)}, jobs ${p50(result.hubJobs)}, plain graphql-js jobs ${p50(result.plainJobs)}`,
    `server thread busy (event loop): floor ${c.hubFloor.mainThreadEventLoop}, nets ${c.hubNets.mainThreadEventLoop}, jobs ${c.hubJobs.mainThreadEventLoop}, plain ${c.plainJobs.mainThreadEventLoop}; ` +
      `PostgreSQL cores: nets ${c.hubNets.postgresCores}, jobs ${c.hubJobs.postgresCores}, plain ${c.plainJobs.postgresCores}`,
    `CPU per request: floor ${perRequest(result.hubFloor, c.hubFloor)}; nets ${perRequest(result.hubNets, c.hubNets)}; ` +
      `jobs ${perRequest(result.hubJobs, c.hubJobs)}; plain jobs ${perRequest(result.plainJobs, c.plainJobs)}`,
    ...result.profiles.map((p) => profileNote(p)),
  ];
}
