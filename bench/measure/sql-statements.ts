import pg from 'pg';
import { PickupService } from '../../src/modules/schedulers/picking-up/pickup.service.js';
import { startFakeNet } from '../../test/support/fake-net.js';
import type { BenchCluster, LoggedStatements } from '../lib/cluster.js';
import { setNetKeepAlive } from '../lib/fake-nets.js';
import { startHub, type BenchHub } from '../lib/hub.js';
import { verdict, type Row } from '../lib/report.js';
import { seedFixture, seedJobs, withClient, type Fixture } from '../lib/seed.js';
import { round, sleep } from '../lib/stats.js';
import { QUERIES } from './graphql-reads.js';

const MAX_STATEMENTS_PER_JOBS_REQUEST = 8;
const QUEUE = 'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }';
const COMPLETE = 'mutation($m: ID!) { completeTraining(modelId: $m) { id } }';
const TRANSACTION_CONTROL = /^(begin|commit|rollback|savepoint|release)\b/i;

/**
 * The statements of one logged message: a one-trip transaction (`begin; …; commit` in one simple-protocol
 * message, src/database/one-trip-transaction.ts) is logged as one line and counts as each of its statements.
 */
const statementsOf = (message: string): string[] =>
  /^begin;/i.test(message) ? message.split(/;\s*/).filter((part) => part.length > 0) : [message];

export interface StatementOptions {
  jobCounts: number[];
  /** `jobs` requests counted at each size (they must agree) */
  repeats: number;
  dispatchedJobs: number;
}

export interface JobsRequestCount {
  jobs: number;
  /** statements per request, one entry per repeat */
  statements: number[];
  serverMs: number;
  sample: string[];
}

export interface DispatchCount {
  jobs: number;
  /** queueTraining + the cycle it causes + completeTraining + the cycle that causes, per job */
  perJob: number;
  /** messages sent (round trips): a one-trip transaction is one */
  messagesPerJob: number;
  perJobWithoutTransactionControl: number;
  queuePhase: number;
  completePhase: number;
  /** PostgreSQL's own time for those statements, per job */
  serverMsPerJob: number;
  /** the statements of the last job, in order */
  sample: { queue: string[]; complete: string[] };
}

export interface StatementResult {
  method: string;
  jobsRequest: JobsRequestCount[];
  dispatch: DispatchCount;
}

const shorten = (statements: string[]) => statements.map((s) => (s.length > 140 ? `${s.slice(0, 140)}…` : s));

/**
 * Measurement 4: SQL statements the hub sends per `jobs` request (at each job
 * count) and per dispatched job, counted from PostgreSQL's own statement log.
 */
export async function measureSqlStatements(cluster: BenchCluster, options: StatementOptions): Promise<StatementResult> {
  const url = await cluster.createDatabase('bench_sql', { logStatements: true });
  const fixture: Fixture = await withClient(url, (client) => seedFixture(client, { models: 10, trusts: 2, tag: 'sql' }));
  const net = await startFakeNet({ clients: fixture.slotNames });
  setNetKeepAlive(net);
  // a long interval: after the start-up tick, only events (queue, net freed) run cycles
  const hub: BenchHub = await startHub(url, { nets: [{ name: 'net-sql', endpoint: net.url }], pickupIntervalMs: 600_000 });
  const marker = new pg.Client({ connectionString: url });
  await marker.connect();
  const log = cluster.statements;
  const pickup = hub.app.get(PickupService);
  const settle = async () => {
    await pickup.idle();
    await sleep(30); // change notifications from the database may still start a cycle
    await pickup.idle();
  };
  const record = async (work: () => Promise<unknown>): Promise<LoggedStatements> => {
    log.start();
    await work();
    await settle();
    return log.stop(marker);
  };
  try {
    const netId = (await marker.query<{ id: string }>('select id from net')).rows[0].id;
    const jobsRequest: JobsRequestCount[] = [];
    let seeded = 0;
    for (const count of options.jobCounts) {
      await seedJobs(marker, {
        count: count - seeded,
        status: 'COMPLETED',
        modelIds: fixture.modelIds,
        trustIds: fixture.trustIds,
        netIds: [netId],
      });
      seeded = count;
      await marker.query('vacuum analyze job');
      for (let i = 0; i < 2; i++) await hub.gql.ok(QUERIES.jobs);
      const runs: LoggedStatements[] = [];
      for (let i = 0; i < options.repeats; i++) {
        runs.push(
          await record(async () => {
            const { jobs } = await hub.gql.ok<{ jobs: unknown[] }>(QUERIES.jobs);
            if (jobs.length !== count) throw new Error(`jobs answered ${jobs.length} rows, expected ${count}`);
          }),
        );
      }
      jobsRequest.push({
        jobs: count,
        statements: runs.map((r) => r.statements.length),
        serverMs: round(runs.reduce((sum, r) => sum + r.serverMs, 0) / runs.length),
        sample: shorten(runs[0].statements),
      });
    }

    const modelId = fixture.modelIds[0];
    const dispatchOne = async (): Promise<{ queue: LoggedStatements; complete: LoggedStatements }> => {
      const queue = await record(() => hub.gql.ok(QUEUE, { m: modelId, t: fixture.trustIds }));
      const started = await marker.query<{ n: number }>(
        `select count(*)::int as n from job where model_id = $1 and status = 'IN_PROGRESS' and backend_job_id is not null`,
        [modelId],
      );
      if (started.rows[0].n !== 1) throw new Error('the queued job was not started by the cycle queueTraining caused');
      const complete = await record(() => hub.gql.ok(COMPLETE, { m: modelId }));
      return { queue, complete };
    };
    for (let i = 0; i < 2; i++) await dispatchOne();
    const phases: Array<{ queue: LoggedStatements; complete: LoggedStatements }> = [];
    for (let i = 0; i < options.dispatchedJobs; i++) phases.push(await dispatchOne());
    const n = phases.length;
    const messages = phases.flatMap((p) => [...p.queue.statements, ...p.complete.statements]);
    const all = messages.flatMap(statementsOf);
    const countIn = (logged: LoggedStatements) => logged.statements.flatMap(statementsOf).length;
    const last = phases[n - 1];
    return {
      method:
        "PostgreSQL statement log: ALTER DATABASE bench_sql SET log_statement = 'all', log_min_duration_statement = 0; " +
        'stderr lines counted between a start and a marker statement; BEGIN/COMMIT count as statements, and a ' +
        'one-trip transaction (one logged message) as each of its statements',
      jobsRequest,
      dispatch: {
        jobs: n,
        perJob: round(all.length / n),
        messagesPerJob: round(messages.length / n),
        perJobWithoutTransactionControl: round(all.filter((s) => !TRANSACTION_CONTROL.test(s)).length / n),
        queuePhase: round(phases.reduce((sum, p) => sum + countIn(p.queue), 0) / n),
        completePhase: round(phases.reduce((sum, p) => sum + countIn(p.complete), 0) / n),
        serverMsPerJob: round(phases.reduce((sum, p) => sum + p.queue.serverMs + p.complete.serverMs, 0) / n),
        sample: { queue: shorten(last.queue.statements), complete: shorten(last.complete.statements) },
      },
    };
  } finally {
    await hub.close();
    await marker.end();
    await net.close();
  }
}

export function sqlStatementRows(result: StatementResult): Row[] {
  const [small, ...others] = result.jobsRequest;
  const large = others.at(-1) ?? small;
  const counts = result.jobsRequest.flatMap((r) => r.statements);
  const equal = counts.every((c) => c === counts[0]);
  const show = (r: JobsRequestCount) => `${r.statements.join('/')} @ ${r.jobs} jobs`;
  const d = result.dispatch;
  return [
    {
      id: '4',
      measurement: `SQL statements per jobs request (${result.jobsRequest.length} sizes × ${small.statements.length} requests)`,
      figure: show(small),
      peer: show(large),
      ratio: equal ? 'equal' : 'differ',
      target: `equal and ≤ ${MAX_STATEMENTS_PER_JOBS_REQUEST}`,
      verdict: verdict(equal && counts[0] <= MAX_STATEMENTS_PER_JOBS_REQUEST),
    },
    {
      id: '4',
      measurement: `SQL statements per dispatched job (queue + its cycle + complete + its cycle; n=${d.jobs})`,
      figure: `${d.perJob} (${d.perJobWithoutTransactionControl} w/o BEGIN/COMMIT) in ${d.messagesPerJob} round trips`,
      peer: `queue phase ${d.queuePhase} + complete phase ${d.completePhase}; PG time ${d.serverMsPerJob} ms/job`,
      ratio: '—',
      target: 'small (no target figure)',
      verdict: 'INFO',
    },
  ];
}

export function sqlStatementNotes(result: StatementResult): string[] {
  const d = result.dispatch;
  const name = (s: string) => s.split(' ').slice(0, 4).join(' ');
  return [
    `counted by: ${result.method}`,
    `dispatch, queue phase: ${d.sample.queue.map(name).join(' | ')}`,
    `dispatch, complete phase: ${d.sample.complete.map(name).join(' | ')}`,
  ];
}
