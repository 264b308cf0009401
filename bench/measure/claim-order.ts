import { performance } from 'node:perf_hooks';
import { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import { query, sql } from '../../src/database/sql.js';
import { ClaimService } from '../../src/modules/schedulers/picking-up/claim.service.js';
import { startFakeNet, type FakeNet } from '../../test/support/fake-net.js';
import type { BenchCluster } from '../lib/cluster.js';
import { setNetKeepAlive } from '../lib/fake-nets.js';
import { startHub, type BenchHub } from '../lib/hub.js';
import { fmtRatio, verdict, type Row } from '../lib/report.js';
import { withClient } from '../lib/seed.js';
import { round, sleep } from '../lib/stats.js';

/** issue 13's targets: the fair claim beside the FIFO claim, and the fair claim against queue size */
const TARGET_FAIR_VS_FIFO = 2;
const TARGET_QUEUE_GROWTH = 1.5;

export type DispatchOrder = 'fair' | 'fifo';
const ORDERS: readonly DispatchOrder[] = ['fair', 'fifo'];

export interface ClaimOrderOptions {
  /** trusts in every bed (each job names 1–3 of them) */
  trusts: number;
  /** the reference bed: queued jobs and projects (issue 13: 10 000 across 100) */
  reference: { jobs: number; projects: number };
  /** queue sizes at the reference's project count */
  queueSizes: number[];
  /** project counts at the reference's queue size */
  projectCounts: number[];
  /** free nets per claim on the reference bed; the other beds claim with `defaultFreeNets` */
  freeNets: number[];
  defaultFreeNets: number;
  /** nets BUSY with a running job in every bed (the running side of fair share and of the limits) */
  busyNets: number;
  samples: number;
  warmup: number;
}

export interface SampleStats {
  n: number;
  p50: number;
  p90: number;
}

export interface ClaimOrderSetup {
  jobs: number;
  projects: number;
  freeNets: number;
  fair: SampleStats;
  fifo: SampleStats;
  /** median of the per-round fair/fifo ratios (each pair measured back to back) */
  pairedRatio: number;
  /** jobs each claim took (the same every sample: the state is rolled back) */
  claimed: Record<DispatchOrder, number>;
}

export interface ClaimOrderResult {
  reference: { jobs: number; projects: number };
  defaultFreeNets: number;
  setups: ClaimOrderSetup[];
  seedMs: Record<string, number>;
}

const median = (values: readonly number[]) => quantile(values, 0.5);

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const stats = (values: readonly number[]): SampleStats => ({
  n: values.length,
  p50: round(median(values)),
  p90: round(quantile(values, 0.9)),
});

const SLOT = (n: number) => `site-order-${n}`;
const FREE_NET = (n: number) => `free-${String(n).padStart(2, '0')}`;
const BUSY_NET = (n: number) => `busy-${String(n).padStart(2, '0')}`;

/**
 * One bed: `jobs` QUEUED jobs (one model each: one live job per model) across
 * `projects` projects (shares 1–3) and the trusts (each job names 1–3, its
 * model approves them), priorities mixed (5 % URGENT, 15 % HIGH, 20 % LOW, the
 * rest NORMAL) and queued over the last three hours (so aging lifts some);
 * limits: trusts 1–5 at most 1 running job, 6–8 at most 2, trust 9 held,
 * trust 10 held until tomorrow, projects 1–3 at most 1; and `busyNets` running
 * jobs (of projects 1…, on trusts 1…), so that the limits bind and the
 * running side of fair share is not empty. Plain SQL in a replica session (no
 * change notifications, no triggers: the job's project is set here).
 */
export async function seedBed(client: pg.ClientBase, bed: { jobs: number; projects: number; trusts: number }): Promise<void> {
  await client.query('set session_replication_role = replica');
  await client.query(
    `insert into project (name, share) select 'order project ' || lpad(g::text, 5, '0'), 1 + g % 3 from generate_series(1, $1::int) g`,
    [bed.projects],
  );
  await client.query(
    `insert into cohort_query (project_id, name, query) select id, 'cohort', 'SELECT * FROM cohort WHERE p = ''' || name || '''' from project`,
  );
  await client.query(
    `with t as (
       insert into trust (name) select 'order trust ' || lpad(g::text, 5, '0') from generate_series(1, $1::int) g returning id, name
     ), numbered as (select id, row_number() over (order by name) as n from t)
     insert into kit_slot (slot_name, slot_number, assigned_trust_id, assigned_at)
     select 'site-order-' || n, n, id, now() from numbered`,
    [bed.trusts],
  );
  await client.query(`create temporary table order_spec on commit preserve rows as
    with p as (select array_agg(id order by name) as ids from project),
         t as (select array_agg(id order by name) as ids from trust)
    select g, gen_random_uuid() as model_id, gen_random_uuid() as job_id,
           p.ids[1 + (g * 7) % cardinality(p.ids)] as project_id,
           -- r: the job's round through the projects, so that each project's jobs mix the classes and the trusts
           case when r % 20 = 0 then 'URGENT' when r % 20 < 4 then 'HIGH' when r % 20 < 8 then 'LOW' else 'NORMAL' end as priority,
           array(select distinct t.ids[1 + (g * k * 37 + k * 11 + r * 13) % cardinality(t.ids)] from generate_series(1, 1 + g % 3) k) as trusts
    from generate_series(1, ${Number(bed.jobs)}) g, p, t, lateral (select (g - 1) / cardinality(p.ids) + g) as rr(r)`);
  await client.query(
    `insert into model (id, name, project_id) select model_id, 'order model ' || g, project_id from order_spec order by g`,
  );
  await client.query(`insert into model_approved_trust (model_id, trust_id) select model_id, unnest(trusts) from order_spec`);
  // queue order = seq = g; queued over the last three hours, oldest first
  await client.query(
    `insert into job (id, model_id, project_id, priority, created_at)
     select job_id, model_id, project_id, priority, now() - (($1::int - g) * (10800.0 / $1::int)) * interval '1 second'
     from order_spec order by g`,
    [bed.jobs],
  );
  await client.query(`insert into job_trust (job_id, trust_id) select job_id, unnest(trusts) from order_spec`);
  await client.query('drop table order_spec');
  await client.query(`with t as (select id, row_number() over (order by name) as n from trust)
    update trust set max_concurrent_jobs = case when t.n <= 5 then 1 when t.n <= 8 then 2 end,
      on_hold = t.n in (9, 10), hold_until = case when t.n = 10 then now() + interval '1 day' end
    from t where t.id = trust.id and t.n <= 10`);
  await client.query(`with p as (select id, row_number() over (order by name) as n from project)
    update project set max_concurrent_jobs = 1 from p where p.id = project.id and p.n <= 3`);
}

/** One IN_PROGRESS job on each busy net: project i, trust i (so trusts 1–5 and projects 1–3 are at capacity). */
export async function seedRunning(client: pg.ClientBase, busyNets: number): Promise<void> {
  await client.query(
    `with nets as (select s.net_id, row_number() over (order by n.name) as i from scheduler s join net n on n.id = s.net_id
                   where n.name like 'busy-%'),
          p as (select id, row_number() over (order by name) as i from project),
          t as (select id, row_number() over (order by name) as i from trust),
          spec as (select nets.net_id, nets.i, gen_random_uuid() as model_id, gen_random_uuid() as job_id,
                          (select id from p where p.i = 1 + (nets.i - 1) % (select count(*) from p)) as project_id,
                          (select id from t where t.i = nets.i) as trust_id
                   from nets where nets.i <= $1),
          models as (insert into model (id, name, project_id, status) select model_id, 'running model ' || i, project_id, 'RUNNING' from spec),
          approved as (insert into model_approved_trust (model_id, trust_id) select model_id, trust_id from spec),
          jobs as (insert into job (id, model_id, project_id, status, started_at, net_id, attempts, backend_job_id, claim_token, start_phase)
                   select job_id, model_id, project_id, 'IN_PROGRESS', now(), net_id, 1, 'run-' || i, gen_random_uuid(), 'RUNNING' from spec),
          linked as (insert into job_trust (job_id, trust_id) select job_id, trust_id from spec)
     update scheduler s set status = 'BUSY', job_id = spec.job_id, lease_until = null, updated_at = now()
     from spec where s.net_id = spec.net_id`,
    [busyNets],
  );
}

interface Bed {
  key: string;
  jobs: number;
  projects: number;
  url: string;
  hubs: Record<DispatchOrder, BenchHub>;
  raw: pg.Client;
}

class Rollback extends Error {}

/**
 * The hub's own claim (ClaimService.claimBatch, whatever statement it runs
 * under the hub's DISPATCH_ORDER), inside a transaction that is rolled back:
 * the claim's fork of the EntityManager is the transaction's (the service's
 * `em` is swapped for the sample's length; nothing else claims on the bench
 * hubs, their pickup is off). Before the claim, in the same transaction,
 * every free net but the first `freeNets` is drained. Returns the claim's time
 * and how many jobs it took.
 */
export async function sampleClaim(hub: BenchHub, freeNets: number, totalFree: number): Promise<{ ms: number; claimed: number }> {
  const claims = hub.app.get(ClaimService);
  const holder = claims as unknown as { em: EntityManager };
  const original = holder.em;
  let measured: { ms: number; claimed: number } | null = null;
  try {
    await original.fork().transactional(async (tx) => {
      if (freeNets < totalFree) {
        await query(tx, sql`update net set drained = true where name like 'free-%' and name > ${FREE_NET(freeNets)}`);
      }
      holder.em = new Proxy(original, {
        get: (target, property) => {
          if (property === 'fork') return () => tx;
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const began = performance.now();
      const claimed = await claims.claimBatch();
      measured = { ms: performance.now() - began, claimed: claimed.length };
      holder.em = original;
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  } finally {
    holder.em = original;
  }
  if (!measured) throw new Error('the claim was not measured');
  return measured;
}

/**
 * Issue 13's cost: the claim with DISPATCH_ORDER=fair beside the claim with
 * DISPATCH_ORDER=fifo, against queue size, number of projects and free nets.
 * Each bed is one database with a fair and a fifo hub on it (pickup off);
 * every sample is one claimBatch in a rolled-back transaction, so the same
 * state is measured again and again. The samples go round the setups in
 * alternating order (forwards, then backwards) and alternate which order goes
 * first, so drift and background load hit every setup and both orders alike.
 */
export async function measureClaimOrder(cluster: BenchCluster, options: ClaimOrderOptions): Promise<ClaimOrderResult> {
  const totalFree = Math.max(...options.freeNets, options.defaultFreeNets);
  const bedSpecs = new Map<string, { jobs: number; projects: number }>();
  const keyOf = (jobs: number, projects: number) => `${jobs}j-${projects}p`;
  const addBed = (jobs: number, projects: number) => bedSpecs.set(keyOf(jobs, projects), { jobs, projects });
  addBed(options.reference.jobs, options.reference.projects);
  for (const jobs of options.queueSizes) addBed(jobs, options.reference.projects);
  for (const projects of options.projectCounts) addBed(options.reference.jobs, projects);

  const slots = Array.from({ length: options.trusts }, (_, i) => SLOT(i + 1));
  const netNames = [
    ...Array.from({ length: totalFree }, (_, i) => FREE_NET(i + 1)),
    ...Array.from({ length: options.busyNets }, (_, i) => BUSY_NET(i + 1)),
  ];
  const fakeNets: FakeNet[] = [];
  const beds: Bed[] = [];
  const seedMs: Record<string, number> = {};
  try {
    for (let i = 0; i < netNames.length; i++) {
      const net = await startFakeNet({ clients: slots });
      setNetKeepAlive(net);
      fakeNets.push(net);
    }
    const nets = netNames.map((name, i) => ({ name, endpoint: fakeNets[i].url }));
    for (const [key, spec] of bedSpecs) {
      const url = await cluster.createDatabase(`bench_order_${key.replace('-', '_')}`);
      const began = performance.now();
      await withClient(url, (client) => seedBed(client, { ...spec, trusts: options.trusts }));
      seedMs[key] = performance.now() - began;
      // the clients' view is part of the claim: each net's check_client_status (every slot online) recorded at start-up,
      // fresh for three hours (3 × CLIENT_STATUS_INTERVAL_MS)
      const env = { CLIENT_STATUS_INTERVAL_MS: '3600000' };
      const hubs = {
        fair: await startHub(url, { nets, pickupIntervalMs: 0, poolMax: 2, env: { ...env, DISPATCH_ORDER: 'fair' } }),
        fifo: await startHub(url, { nets, pickupIntervalMs: 0, poolMax: 2, env: { ...env, DISPATCH_ORDER: 'fifo' } }),
      };
      const raw = new pg.Client({ connectionString: url });
      await raw.connect();
      beds.push({ key, ...spec, url, hubs, raw });
      await raw.query('set session_replication_role = replica');
      await seedRunning(raw, options.busyNets);
      await raw.query('set session_replication_role = origin');
      const expected = netNames.length * options.trusts;
      for (let waited = 0; ; waited += 50) {
        const { rows } = await raw.query<{ n: number }>(`select count(*)::int as n from net_client where online`);
        if (rows[0].n >= expected) break;
        if (waited > 30_000)
          throw new Error(`bed ${key}: the nets' clients were not recorded online (${rows[0].n} of ${expected})`);
        await sleep(50);
      }
      await raw.query('vacuum analyze');
    }

    const setups: Array<{ bed: Bed; freeNets: number; samples: Record<DispatchOrder, number[]>; ratios: number[] }> = [];
    const claimedBy = new Map<string, Record<DispatchOrder, number>>();
    const refKey = keyOf(options.reference.jobs, options.reference.projects);
    for (const bed of beds) {
      const counts = bed.key === refKey ? options.freeNets : [options.defaultFreeNets];
      for (const freeNets of new Set(counts)) setups.push({ bed, freeNets, samples: { fair: [], fifo: [] }, ratios: [] });
    }
    const setupKey = (s: { bed: Bed; freeNets: number }) => `${s.bed.key}-${s.freeNets}`;
    for (let i = 0; i < options.warmup + options.samples; i++) {
      const order = i % 2 === 0 ? setups : [...setups].reverse();
      for (const setup of order) {
        const pair = (i + setups.indexOf(setup)) % 2 === 0 ? ORDERS : [...ORDERS].reverse();
        const took: Partial<Record<DispatchOrder, number>> = {};
        for (const dispatchOrder of pair) {
          const sample = await sampleClaim(setup.bed.hubs[dispatchOrder], setup.freeNets, totalFree);
          const known = claimedBy.get(setupKey(setup)) ?? { fair: -1, fifo: -1 };
          if (sample.claimed === 0) {
            throw new Error(
              `${setupKey(setup)}: the ${dispatchOrder} claim took no job (a claim that finds nothing measures nothing)`,
            );
          }
          known[dispatchOrder] = sample.claimed;
          claimedBy.set(setupKey(setup), known);
          took[dispatchOrder] = sample.ms;
        }
        if (i >= options.warmup) {
          setup.samples.fair.push(took.fair!);
          setup.samples.fifo.push(took.fifo!);
          setup.ratios.push(took.fair! / took.fifo!);
        }
      }
      // the rolled-back claims leave dead row versions behind: clear them now and then, between rounds
      if (i % 25 === 24) for (const bed of beds) await bed.raw.query('vacuum job, scheduler, net');
    }
    return {
      reference: options.reference,
      defaultFreeNets: options.defaultFreeNets,
      seedMs: Object.fromEntries(Object.entries(seedMs).map(([k, v]) => [k, round(v)])),
      setups: setups.map((s) => ({
        jobs: s.bed.jobs,
        projects: s.bed.projects,
        freeNets: s.freeNets,
        fair: stats(s.samples.fair),
        fifo: stats(s.samples.fifo),
        pairedRatio: round(median(s.ratios)),
        claimed: claimedBy.get(setupKey(s)) ?? { fair: 0, fifo: 0 },
      })),
    };
  } finally {
    for (const bed of beds) {
      await bed.raw.end();
      await bed.hubs.fair.close();
      await bed.hubs.fifo.close();
    }
    await Promise.all(fakeNets.map((net) => net.close()));
  }
}

const human = (n: number) => (n >= 1000 ? `${round(n / 1000)} k` : String(n));
const fmt = (s: SampleStats) => `p50/p90 ${s.p50} / ${s.p90} ms`;
const describe = (s: ClaimOrderSetup) => `${human(s.jobs)} jobs, ${s.projects} projects, ${s.freeNets} free nets`;

export function claimOrderRows(result: ClaimOrderResult): Row[] {
  const rows: Row[] = [];
  const find = (jobs: number, projects: number, freeNets: number) =>
    result.setups.find((s) => s.jobs === jobs && s.projects === projects && s.freeNets === freeNets);
  const ref = result.reference;
  for (const s of result.setups.filter((x) => x.jobs === ref.jobs && x.projects === ref.projects)) {
    const ratio = s.fair.p50 / s.fifo.p50;
    rows.push({
      id: '7',
      measurement: `claim, DISPATCH_ORDER fair vs fifo, ${describe(s)} (n=${s.fair.n}, rolled back)`,
      figure: `fair ${fmt(s.fair)}`,
      peer: `fifo ${fmt(s.fifo)}`,
      ratio: `p50 ${fmtRatio(ratio)}, p90 ${fmtRatio(s.fair.p90 / s.fifo.p90)}, paired ${fmtRatio(s.pairedRatio)}`,
      target: `≤ ${TARGET_FAIR_VS_FIFO}×`,
      verdict: verdict(ratio <= TARGET_FAIR_VS_FIFO),
    });
  }
  const n = result.defaultFreeNets;
  const bySize = result.setups.filter((s) => s.projects === ref.projects && s.freeNets === n).sort((a, b) => a.jobs - b.jobs);
  const smallest = bySize[0];
  for (const s of bySize.slice(1)) {
    const growth = s.fair.p50 / smallest.fair.p50;
    const judged = s.jobs === Math.max(...bySize.map((x) => x.jobs));
    rows.push({
      id: '7',
      measurement: `fair claim vs queue size, ${ref.projects} projects, ${n} free nets: ${human(s.jobs)} vs ${human(smallest.jobs)} queued`,
      figure: `${human(s.jobs)}: ${fmt(s.fair)} (fifo ${s.fifo.p50})`,
      peer: `${human(smallest.jobs)}: ${fmt(smallest.fair)} (fifo ${smallest.fifo.p50})`,
      ratio: `p50 ${fmtRatio(growth)}, p90 ${fmtRatio(s.fair.p90 / smallest.fair.p90)}`,
      target: judged ? `≤ ${TARGET_QUEUE_GROWTH}×` : '—',
      verdict: judged ? verdict(growth <= TARGET_QUEUE_GROWTH) : 'INFO',
    });
  }
  const byProjects = result.setups.filter((s) => s.jobs === ref.jobs && s.freeNets === n).sort((a, b) => a.projects - b.projects);
  const fewest = byProjects[0];
  for (const s of byProjects.slice(1)) {
    rows.push({
      id: '7',
      measurement: `fair claim vs projects, ${human(ref.jobs)} queued, ${n} free nets: ${s.projects} vs ${fewest.projects} projects`,
      figure: `${s.projects}: ${fmt(s.fair)} (fifo ${s.fifo.p50})`,
      peer: `${fewest.projects}: ${fmt(fewest.fair)} (fifo ${fewest.fifo.p50})`,
      ratio: `p50 ${fmtRatio(s.fair.p50 / fewest.fair.p50)}`,
      target: '—',
      verdict: 'INFO',
    });
  }
  const byNets = result.setups
    .filter((s) => s.jobs === ref.jobs && s.projects === ref.projects)
    .sort((a, b) => a.freeNets - b.freeNets);
  const one = byNets[0];
  for (const s of byNets.slice(1)) {
    rows.push({
      id: '7',
      measurement: `fair claim vs free nets, ${human(ref.jobs)} queued, ${ref.projects} projects: ${s.freeNets} vs ${one.freeNets} free`,
      figure: `${s.freeNets}: ${fmt(s.fair)} (fifo ${s.fifo.p50})`,
      peer: `${one.freeNets}: ${fmt(one.fair)} (fifo ${one.fifo.p50})`,
      ratio: `p50 ${fmtRatio(s.fair.p50 / one.fair.p50)}`,
      target: '—',
      verdict: 'INFO',
    });
  }
  void find;
  return rows;
}

export function claimOrderNotes(result: ClaimOrderResult): string[] {
  return [
    `claim-order beds (seed in ms): ${Object.entries(result.seedMs)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; jobs taken per claim (fair/fifo): ${result.setups
      .map((s) => `${describe(s)} ${s.claimed.fair}/${s.claimed.fifo}`)
      .join('; ')}`,
    `each sample is one ClaimService.claimBatch() in a transaction rolled back (the same state every time), fair and fifo ` +
      `back to back in alternating order; "paired" is the median of those pairs' ratios`,
  ];
}
