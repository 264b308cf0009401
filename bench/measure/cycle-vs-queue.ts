import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { INestApplication } from '@nestjs/common';
import { ClaimService } from '../../src/modules/schedulers/picking-up/claim.service.js';
import { AdmissionService } from '../../src/modules/schedulers/net-state/admission.service.js';
import { RecoveryService } from '../../src/modules/schedulers/net-state/recovery.service.js';
import { TrainingService } from '../../src/modules/schedulers/running/training.service.js';
import { startFakeNet, type FakeNet } from '../../test/support/fake-net.js';
import type { BenchCluster } from '../lib/cluster.js';
import { setNetKeepAlive } from '../lib/fake-nets.js';
import { startHub, type BenchHub } from '../lib/hub.js';
import { fmtRatio, type Row } from '../lib/report.js';
import { seedFixture, type Fixture } from '../lib/seed.js';
import { fmtPercentiles, roundSummary, summarize, type Summary } from '../lib/stats.js';
import { sampleClaim } from './claim-order.js';

export interface CycleVsQueueOptions {
  /** queued jobs kept in the queue, smallest first */
  queued: number[];
  rounds: number;
  warmup: number;
}

export interface CycleAtQueue {
  queued: number;
  /** runPickupCycle (full cycle: recovery, retirement, expiry, probes, claim, start) + completeTraining, over GraphQL */
  round: Summary;
  /** the full cycle's retirement of queued jobs naming unapproved trusts (ClaimService.retireInvalidQueuedJobs), alone */
  retire: Summary;
  /** the claim alone (ClaimService.claimBatch, one free net, rolled back) */
  claim: Summary;
  /** inside the rounds: p50 ms of each step of the cycle (wrapped service methods) and of completeTraining */
  steps: Record<string, number>;
}

export interface CycleVsQueueResult {
  runs: CycleAtQueue[];
}

const CYCLE = 'mutation { runPickupCycle { started { id model { id } } } }';
const COMPLETE = 'mutation($m: ID!) { completeTraining(modelId: $m) { id status } }';

/** A queued job of a new model approving the fixture's trusts (one live job per model). */
const QUEUE_ONE = `with m as (insert into model (name, project_id) values ('cycle model ' || gen_random_uuid(), $1) returning id),
    a as (insert into model_approved_trust (model_id, trust_id) select m.id, t from m, unnest($2::uuid[]) t),
    j as (insert into job (model_id) select id from m returning id)
  insert into job_trust (job_id, trust_id) select j.id, t from j, unnest($2::uuid[]) t`;

const QUEUE_MANY = `with m as (insert into model (name, project_id)
      select 'cycle model ' || gen_random_uuid(), $1 from generate_series(1, $3::int) returning id),
    a as (insert into model_approved_trust (model_id, trust_id) select m.id, t from m, unnest($2::uuid[]) t),
    j as (insert into job (model_id) select id from m returning id)
  insert into job_trust (job_id, trust_id) select j.id, t from j, unnest($2::uuid[]) t`;

interface CycleBed {
  queued: number;
  hub: BenchHub;
  net: FakeNet;
  raw: pg.Client;
  fixture: Fixture;
  round: number[];
  retire: number[];
  claim: number[];
  steps: StepTimes;
}

type StepTimes = Record<string, number[]>;

/**
 * Times the steps of a full cycle inside the rounds, by wrapping the hub's own service instances (as
 * lib/instrument.ts does; nothing in src/ changes). `record()` switches the recording on and off.
 */
function timeSteps(app: INestApplication, steps: StepTimes): { record(on: boolean): void } {
  let on = false;
  const wrap = <S extends object>(service: S, method: keyof S & string, label: string) => {
    const original = (service[method] as (...args: unknown[]) => Promise<unknown>).bind(service);
    (service as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      const began = performance.now();
      try {
        return await original(...args);
      } finally {
        if (on) (steps[label] ??= []).push(performance.now() - began);
      }
    };
  };
  wrap(app.get(RecoveryService), 'recoverExpiredLeases', 'recoverExpiredLeases');
  wrap(app.get(ClaimService), 'retireInvalidQueuedJobs', 'retireInvalidQueuedJobs');
  wrap(app.get(AdmissionService), 'expireWaitingJobs', 'expireWaitingJobs');
  wrap(app.get(AdmissionService), 'probeDueNets', 'probeDueNets');
  wrap(app.get(AdmissionService), 'nextWakeAt', 'nextWakeAt');
  wrap(app.get(ClaimService), 'claimBatch', 'claimBatch');
  wrap(app.get(TrainingService), 'prepareAndStartTraining', 'prepareAndStartTraining');
  return { record: (value) => (on = value) };
}

/**
 * Issue 13's "a runPickupCycle + completeTraining round took 3.2× longer with
 * 3 000 queued jobs than with 200": each bed is a database with one fake net
 * and `queued` jobs waiting (valid ones: nothing to retire); a round is one
 * full cycle over GraphQL (it starts the oldest job on the net) and the
 * completion of that job, after which one job is queued again (so the queue
 * length stays put). Rounds alternate between the beds; the retirement and
 * the claim are also timed alone, to show where the growth lies.
 */
export async function measureCycleVsQueue(cluster: BenchCluster, options: CycleVsQueueOptions): Promise<CycleVsQueueResult> {
  const beds: CycleBed[] = [];
  try {
    for (const queued of options.queued) {
      const url = await cluster.createDatabase(`bench_cycle_${queued}`);
      const raw = new pg.Client({ connectionString: url });
      await raw.connect();
      const fixture = await seedFixture(raw, { models: 1, trusts: 2, tag: `cycle${queued}` });
      await raw.query(QUEUE_MANY, [fixture.projectId, fixture.trustIds, queued]);
      await raw.query('vacuum analyze');
      const net = await startFakeNet({ clients: fixture.slotNames });
      setNetKeepAlive(net);
      const hub = await startHub(url, { nets: [{ name: `cycle-net-${queued}`, endpoint: net.url }], pickupIntervalMs: 0 });
      beds.push({ queued, hub, net, raw, fixture, round: [], retire: [], claim: [], steps: {} });
    }
    const recorders = new Map<CycleBed, { record(on: boolean): void }>();
    for (let i = 0; i < options.warmup + options.rounds; i++) {
      const order = i % 2 === 0 ? beds : [...beds].reverse();
      for (const bed of order) {
        const claims = bed.hub.app.get(ClaimService);
        const steps = (recorders.get(bed) ?? recorders.set(bed, timeSteps(bed.hub.app, bed.steps)).get(bed))!;
        let began = performance.now();
        const retired = await claims.retireInvalidQueuedJobs();
        const retireMs = performance.now() - began;
        if (retired !== 0) throw new Error(`the retirement found ${retired} job(s) to retire: the queue should be valid`);
        const claim = await sampleClaim(bed.hub, 1, 1);
        if (claim.claimed !== 1) throw new Error(`the claim took ${claim.claimed} jobs, expected 1`);
        steps.record(i >= options.warmup);
        began = performance.now();
        const cycle = await bed.hub.gql.ok<{ runPickupCycle: { started: Array<{ id: string; model: { id: string } }> } }>(CYCLE);
        const [started] = cycle.runPickupCycle.started;
        if (cycle.runPickupCycle.started.length !== 1) {
          throw new Error(`the cycle started ${cycle.runPickupCycle.started.length} jobs, expected 1`);
        }
        const completing = performance.now();
        await bed.hub.gql.ok(COMPLETE, { m: started.model.id });
        const roundMs = performance.now() - began;
        steps.record(false);
        if (i >= options.warmup) (bed.steps.completeTraining ??= []).push(performance.now() - completing);
        await bed.raw.query(QUEUE_ONE, [bed.fixture.projectId, bed.fixture.trustIds]);
        if (i >= options.warmup) {
          bed.round.push(roundMs);
          bed.retire.push(retireMs);
          bed.claim.push(claim.ms);
        }
      }
    }
    return {
      runs: beds.map((bed) => ({
        queued: bed.queued,
        round: roundSummary(summarize(bed.round)),
        retire: roundSummary(summarize(bed.retire)),
        claim: roundSummary(summarize(bed.claim)),
        steps: Object.fromEntries(Object.entries(bed.steps).map(([k, v]) => [k, roundSummary(summarize(v)).p50])),
      })),
    };
  } finally {
    for (const bed of beds) {
      await bed.hub.close();
      await bed.raw.end();
      await bed.net.close();
    }
  }
}

export function cycleVsQueueRows(result: CycleVsQueueResult): Row[] {
  const [small, ...rest] = result.runs;
  return rest.map((large) => ({
    id: '8',
    measurement: `runPickupCycle + completeTraining round, ${large.queued} vs ${small.queued} queued (n=${large.round.n})`,
    figure: `${large.queued}: ${fmtPercentiles(large.round, ['p50', 'p95'])}`,
    peer: `${small.queued}: ${fmtPercentiles(small.round, ['p50', 'p95'])}`,
    ratio: `p50 ${fmtRatio(large.round.p50 / small.round.p50)}`,
    target: '— (issue 13: was 3.2×)',
    verdict: 'INFO',
  }));
}

export function cycleVsQueueNotes(result: CycleVsQueueResult): string[] {
  return [
    `where a full cycle's time grows with the queue, p50 ms per queue length: ` +
      result.runs
        .map(
          (r) =>
            `${r.queued} queued: round ${r.round.p50}, retirement of invalid queued jobs alone ${r.retire.p50}, claim alone ${r.claim.p50}`,
        )
        .join('; ') +
      ` (retirement ${fmtRatio(result.runs.at(-1)!.retire.p50 / result.runs[0].retire.p50)}, claim ${fmtRatio(
        result.runs.at(-1)!.claim.p50 / result.runs[0].claim.p50,
      )}, largest vs smallest)`,
    `steps inside the rounds, p50 ms: ` +
      result.runs
        .map(
          (r) =>
            `${r.queued} queued: ${Object.entries(r.steps)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`,
        )
        .join('; '),
  ];
}
