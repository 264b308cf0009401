import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ClaimService } from '../../src/modules/schedulers/picking-up/claim.service.js';
import type { BenchCluster } from '../lib/cluster.js';
import { startHub } from '../lib/hub.js';
import { fmtRatio, verdict, type Row } from '../lib/report.js';
import { seedFixture } from '../lib/seed.js';
import { fmtPercentiles, round, roundSummary, summarize, type Summary } from '../lib/stats.js';

const TARGET_GROWTH = 1.2;

export interface ClaimHistoryOptions {
  /** historical (COMPLETED/DELETED) jobs in the table, smallest first */
  histories: number[];
  samples: number;
  warmup: number;
}

export interface ClaimAtHistory {
  /** COMPLETED/DELETED rows in `job` while measuring */
  history: number;
  /** time to insert the history (one INSERT … SELECT generate_series) + VACUUM ANALYZE */
  seedMs: number;
  claim: Summary;
}

export interface ClaimHistoryResult {
  runs: ClaimAtHistory[];
}

const INSERT_HISTORY = `insert into job (model_id, project_id, status, started_at, completed_at, net_id, attempts, backend_job_id)
  select ($1::uuid[])[1 + g % cardinality($1::uuid[])], (select project_id from model where id = ($1::uuid[])[1]),
         case when g % 4 = 0 then 'DELETED' else 'COMPLETED' end,
         case when g % 4 = 0 then null else clock_timestamp() - interval '2 hours' end,
         case when g % 4 = 0 then null else clock_timestamp() - interval '1 hour' end,
         $2::uuid, 1, 'history-' || g
  from generate_series(1, $3::int) g`;

const INSERT_QUEUED = `with created as (insert into job (model_id, project_id) select id, project_id from model where id = $1 returning id),
    linked as (insert into job_trust (job_id, trust_id) select created.id, t from created, unnest($2::uuid[]) t)
  select id from created`;

/** What endRuns does for one job: COMPLETED, its net AVAILABLE. */
const COMPLETE = `with ended as (
    update job set status = 'COMPLETED', completed_at = clock_timestamp(), missing_since = null
    where id = $1 and status = 'IN_PROGRESS' returning id
  ) update scheduler set job_id = null, updated_at = now(), status = 'AVAILABLE', lease_until = null, sweep_pending = false
    where job_id in (select id from ended)`;

interface ClaimBed {
  history: number;
  seedMs: number;
  raw: pg.Client;
  claims: ClaimService;
  modelIds: string[];
  trustIds: string[];
  samples: number[];
  close(): Promise<void>;
}

/** A database with `history` finished jobs and one net, and a hub on it (automatic pickup off: only our calls claim). */
async function claimBed(cluster: BenchCluster, history: number): Promise<ClaimBed> {
  const url = await cluster.createDatabase(`bench_claim_${history}`);
  const hub = await startHub(url, { nets: [{ name: 'claim-net', endpoint: 'http://127.0.0.1:9/claim' }], pickupIntervalMs: 0 });
  const raw = new pg.Client({ connectionString: url });
  await raw.connect();
  try {
    // bulk seeding without the hub's change-notification triggers (a million NOTIFYs would dominate)
    await raw.query('set session_replication_role = replica');
    const fixture = await seedFixture(raw, { models: 100, trusts: 2, tag: 'claim' });
    const netId = (await raw.query<{ id: string }>('select id from net')).rows[0].id;
    const seedStart = performance.now();
    await raw.query(INSERT_HISTORY, [fixture.modelIds, netId, history]);
    await raw.query('vacuum analyze');
    return {
      history,
      seedMs: performance.now() - seedStart,
      raw,
      claims: hub.app.get(ClaimService),
      modelIds: fixture.modelIds,
      trustIds: fixture.trustIds,
      samples: [],
      close: async () => {
        await raw.end();
        await hub.close();
      },
    };
  } catch (error) {
    await raw.end();
    await hub.close();
    throw error;
  }
}

/** Queues one job (plain SQL), times the hub's claim of it, then completes it (plain SQL). */
async function claimOnce(bed: ClaimBed, i: number): Promise<number> {
  const queued = (await bed.raw.query<{ id: string }>(INSERT_QUEUED, [bed.modelIds[i % bed.modelIds.length], bed.trustIds]))
    .rows[0].id;
  const began = performance.now();
  const claimed = await bed.claims.claimBatch();
  const took = performance.now() - began;
  if (claimed.length !== 1 || claimed[0].job.id !== queued) {
    throw new Error(
      `claimBatch claimed ${claimed.length} job(s) (${claimed.map((c) => c.job.id).join(', ')}), expected ${queued}`,
    );
  }
  await bed.raw.query(COMPLETE, [queued]);
  return took;
}

/**
 * Measurement 5: the hub's claim (ClaimService.claimBatch: one free net, one
 * queued job) with a small and a large history of finished jobs in the table.
 * Each history size has its own database and hub; the samples alternate
 * between them, so warm-up and background noise hit every size alike.
 */
export async function measureClaimHistory(cluster: BenchCluster, options: ClaimHistoryOptions): Promise<ClaimHistoryResult> {
  const beds: ClaimBed[] = [];
  try {
    for (const history of options.histories) beds.push(await claimBed(cluster, history));
    for (let i = 0; i < options.warmup + options.samples; i++) {
      for (const bed of beds) {
        const took = await claimOnce(bed, i);
        if (i >= options.warmup) bed.samples.push(took);
      }
    }
    return {
      runs: beds.map((bed) => ({ history: bed.history, seedMs: round(bed.seedMs), claim: roundSummary(summarize(bed.samples)) })),
    };
  } finally {
    for (const bed of beds) await bed.close();
  }
}

const human = (n: number) => (n >= 1_000_000 ? `${round(n / 1_000_000)} M` : n >= 1000 ? `${round(n / 1000)} k` : String(n));

export function claimHistoryRows(result: ClaimHistoryResult): Row[] {
  const [small, ...rest] = result.runs;
  return rest.map((large) => {
    const p50 = large.claim.p50 / small.claim.p50;
    const p95 = large.claim.p95 / small.claim.p95;
    return {
      id: '5',
      measurement: `claim (ClaimService.claimBatch), ${human(large.history)} vs ${human(small.history)} finished jobs in table (n=${large.claim.n})`,
      figure: `${human(large.history)}: ${fmtPercentiles(large.claim, ['p50', 'p95'])}`,
      peer: `${human(small.history)}: ${fmtPercentiles(small.claim, ['p50', 'p95'])}`,
      ratio: `p50 ${fmtRatio(p50)}, p95 ${fmtRatio(p95)}`,
      target: `≤ ${TARGET_GROWTH}×`,
      verdict: verdict(p50 <= TARGET_GROWTH && p95 <= TARGET_GROWTH),
    };
  });
}

export function claimHistoryNotes(result: ClaimHistoryResult): string[] {
  return [
    `history seeding (INSERT … SELECT generate_series + VACUUM ANALYZE): ` +
      result.runs.map((r) => `${human(r.history)} in ${round(r.seedMs / 1000)} s`).join(', ') +
      '; samples alternate between the databases',
  ];
}
