import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { BenchCluster } from '../lib/cluster.js';
import { seedFixture, seedJobs, withClient } from '../lib/seed.js';

/*
 * The hub's claim/complete SQL (src/modules/schedulers/claim.service.ts
 * claimBatch → takeValidQueuedJobs → assign, and run-ending.ts endRuns),
 * mirrored statement for statement — except that each connection claims ONE
 * scheduler (`limit 1`), as the bare cycle the brief asks for.
 */
const PICKUP_PAUSED = `coalesce((select (value->>'enabled')::boolean from hub_setting where key = 'deployment_mode'), false)`;
const LEASE_MS = 120_000;

const CLAIM_SCHEDULER = `select id, net_id as "netId" from scheduler
  where status = 'AVAILABLE' and not ${PICKUP_PAUSED}
  order by updated_at, id limit 1 for update skip locked`;

const TAKE_QUEUED_JOB = `select j.id, j.model_id as "modelId",
    exists (select 1 from job_trust jt where jt.job_id = j.id and not exists (
      select 1 from model_approved_trust a where a.model_id = j.model_id and a.trust_id = jt.trust_id)) as invalid
  from job j where j.status = 'QUEUED' and not (j.id = any($1::uuid[]))
  order by j.seq limit $2 for update of j skip locked`;

const JOB_COLUMNS = `j.id, j.status, j.created_at as "createdAt", j.started_at as "startedAt",
  j.completed_at as "completedAt", j.backend_job_id as "backendJobId", j.attempts, j.model_id as "modelId", j.net_id as "netId"`;

const ASSIGN = `with pair as (
    select * from unnest($1::uuid[], $2::uuid[], $3::uuid[]) as p(job_id, scheduler_id, net_id)
  ), claimed as (
    update job j set status = 'IN_PROGRESS', net_id = p.net_id, started_at = clock_timestamp(), attempts = j.attempts + 1,
      claim_token = gen_random_uuid(), start_phase = 'CLAIMED', missing_since = null, backend_job_id = null
    from pair p where j.id = p.job_id
    returning j.*, p.scheduler_id
  ), held as (
    update scheduler s set status = 'BUSY', job_id = p.job_id, sweep_pending = false, updated_at = now(),
      lease_until = now() + ($4 * interval '1 millisecond')
    from pair p where s.id = p.scheduler_id
  )
  select ${JOB_COLUMNS}, j.claim_token as "claimToken", j.scheduler_id as "schedulerId",
    array(select trust_id::text from job_trust where job_id = j.id) as "trustIds"
  from claimed j order by j.seq`;

const END_RUN = `with ended as (
    update job set status = $1,
      completed_at = case when $1 = 'COMPLETED' then clock_timestamp() else completed_at end,
      started_at = case when $1 = 'DELETED' then null else started_at end,
      missing_since = null
    where status = 'IN_PROGRESS'
      and ($2::uuid is null or id = $2::uuid)
      and ($3::uuid is null or model_id = $3::uuid)
      and ($4::uuid is null or claim_token = $4::uuid)
    returning *
  ), freed as (
    update scheduler set job_id = null, updated_at = now(),
      status = case when $5 then 'BUSY' else 'AVAILABLE' end,
      lease_until = case when $5 then now() + $6 * interval '1 millisecond' else null end,
      sweep_pending = $5
    where job_id in (select id from ended)
  ), model_update as (
    update model set status = $7, updated_at = now()
    where $7::text is not null and status <> 'STOPPED' and id in (select model_id from ended)
  )
  select ${JOB_COLUMNS} from ended j`;

export interface CeilingOptions {
  nets: number;
  connections: number;
  /** QUEUED jobs inserted up front (must outlast every round) */
  queued: number;
}

export interface CeilingRound {
  cycles: number;
  windowMs: number;
  /** claim transaction + complete statement, ms per cycle */
  latencies: number[];
  /** transactions that found no free scheduler or no job */
  emptyClaims: number;
}

export interface ClaimCeiling {
  round(warmupMs: number, durationMs: number): Promise<CeilingRound>;
  close(): Promise<void>;
}

/** Inserts `count` nets with an AVAILABLE scheduler each (what the hub's seeding does). */
export async function seedNets(client: pg.ClientBase, count: number): Promise<void> {
  await client.query(
    `insert into net (name, endpoint, fl_backend)
     select 'ceiling-net-' || g, 'http://127.0.0.1:9/ceiling-' || g, 'nvflare' from generate_series(1, $1::int) g`,
    [count],
  );
  await client.query('insert into scheduler (net_id) select id from net on conflict (net_id) do nothing');
}

interface Claimed {
  id: string;
  claimToken: string;
}

async function cycle(client: pg.Client): Promise<boolean> {
  await client.query('begin');
  let claimed: Claimed | undefined;
  try {
    const schedulers = await client.query<{ id: string; netId: string }>(CLAIM_SCHEDULER);
    const scheduler = schedulers.rows[0];
    if (scheduler) {
      const head = await client.query<{ id: string; invalid: boolean }>(TAKE_QUEUED_JOB, [[], 1]);
      const job = head.rows.find((j) => !j.invalid);
      if (job) {
        const rows = await client.query<Claimed>(ASSIGN, [[job.id], [scheduler.id], [scheduler.netId], LEASE_MS]);
        claimed = rows.rows[0];
      }
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
  if (!claimed) return false;
  await client.query(END_RUN, ['COMPLETED', claimed.id, null, claimed.claimToken, false, 0, null]);
  return true;
}

/**
 * The ceiling for measurement 2: the bare claim/complete cycle as plain SQL
 * on `connections` pg connections (no ORM, no HTTP), on its own database.
 */
export async function prepareClaimCeiling(cluster: BenchCluster, options: CeilingOptions): Promise<ClaimCeiling> {
  const url = await cluster.createDatabase('bench_ceiling');
  await withClient(url, async (client) => {
    const fixture = await seedFixture(client, { models: 16, trusts: 2, tag: 'ceiling' });
    await seedNets(client, options.nets);
    await seedJobs(client, { count: options.queued, status: 'QUEUED', modelIds: fixture.modelIds, trustIds: fixture.trustIds });
    await client.query('vacuum analyze');
  });
  const clients = await Promise.all(
    Array.from({ length: options.connections }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  return {
    round: async (warmupMs, durationMs) => {
      const windowStart = performance.now() + warmupMs;
      const end = windowStart + durationMs;
      const result: CeilingRound = { cycles: 0, windowMs: durationMs, latencies: [], emptyClaims: 0 };
      await Promise.all(
        clients.map(async (client) => {
          for (let now = performance.now(); now < end; now = performance.now()) {
            const done = await cycle(client);
            const finished = performance.now();
            if (!done) result.emptyClaims++;
            else if (finished >= windowStart && finished <= end) {
              result.cycles++;
              result.latencies.push(finished - now);
            }
          }
        }),
      );
      return result;
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.end()));
    },
  };
}
