import { performance } from 'node:perf_hooks';
import type { BenchCluster } from '../lib/cluster.js';
import { startHub, type BenchHub } from '../lib/hub.js';
import { fmtRatio, verdict, type Row } from '../lib/report.js';
import { seedFixture, seedJobs, withClient } from '../lib/seed.js';
import { round, summarize } from '../lib/stats.js';

export interface QueueViewOptions {
  /** queue lengths compared (the first is the peer of the others) */
  sizes: readonly number[];
  /** timed requests per query and size, after two unmeasured ones */
  repeats: number;
  /** the page a console shows */
  page: number;
}

interface SizeResult {
  queued: number;
  /** median ms: the first page, the last page, the whole queue */
  firstPageMs: number;
  lastPageMs: number;
  wholeQueueMs: number;
}

export interface QueueViewResult {
  page: number;
  sizes: SizeResult[];
}

const PAGE = 'query($n: Int, $after: ID) { jobs(status: QUEUED, first: $n, after: $after) { id queuePosition } }';

type JobsAnswer = { jobs: Array<{ id: string; queuePosition: number | null }> };

/**
 * Measurement 6: the queue view, `jobs(status: QUEUED) { queuePosition }`,
 * at several queue lengths in one run: the first page, the last page and the
 * whole queue. Positions come from one window over the page's span of the
 * queue, so the first page costs the same at any length and the whole queue
 * grows with the rows it returns.
 */
export async function measureQueueView(cluster: BenchCluster, options: QueueViewOptions): Promise<QueueViewResult> {
  const beds: Array<{ queued: number; hub: BenchHub; lastAfter: string }> = [];
  try {
    for (const queued of options.sizes) {
      const url = await cluster.createDatabase(`bench_queue_${queued}`);
      await withClient(url, async (client) => {
        const fixture = await seedFixture(client, { models: 1, trusts: 2, tag: `queue${queued}` });
        await seedJobs(client, { count: queued, status: 'QUEUED', modelIds: fixture.modelIds, trustIds: fixture.trustIds });
        await client.query('vacuum analyze');
      });
      const hub = await startHub(url, {
        nets: [{ name: 'queue-net', endpoint: 'http://127.0.0.1:9/queue' }],
        pickupIntervalMs: 0,
      });
      const whole = (await hub.gql.ok<JobsAnswer>(PAGE, {})).jobs;
      beds.push({ queued, hub, lastAfter: whole[queued - options.page - 1].id });
      if (whole.length !== queued || whole.some((job, i) => job.queuePosition !== i + 1)) {
        throw new Error(`the queue view answered ${whole.length} jobs, not positions 1…${queued}`);
      }
    }
    const queries = (bed: (typeof beds)[number]) => ({
      firstPageMs: { variables: { n: options.page }, rows: options.page },
      lastPageMs: { variables: { n: options.page, after: bed.lastAfter }, rows: options.page },
      wholeQueueMs: { variables: {}, rows: bed.queued },
    });
    type Key = keyof ReturnType<typeof queries>;
    const samples: Array<Record<Key, number[]>> = beds.map(() => ({ firstPageMs: [], lastPageMs: [], wholeQueueMs: [] }));
    // rounds alternate between the queue lengths, so noise and warm-up hit each alike; the first two are not kept
    for (let round = 0; round < options.repeats + 2; round++) {
      for (const [i, bed] of beds.entries()) {
        for (const [key, { variables, rows }] of Object.entries(queries(bed)) as Array<
          [Key, { variables: object; rows: number }]
        >) {
          const began = performance.now();
          const { jobs } = await bed.hub.gql.ok<JobsAnswer>(PAGE, { ...variables });
          const took = performance.now() - began;
          if (jobs.length !== rows) throw new Error(`expected ${rows} rows, got ${jobs.length}`);
          if (round >= 2) samples[i][key].push(took);
        }
      }
    }
    return {
      page: options.page,
      sizes: beds.map((bed, i) => ({
        queued: bed.queued,
        firstPageMs: summarize(samples[i].firstPageMs).p50,
        lastPageMs: summarize(samples[i].lastPageMs).p50,
        wholeQueueMs: summarize(samples[i].wholeQueueMs).p50,
      })),
    };
  } finally {
    await Promise.all(beds.map((bed) => bed.hub.close()));
  }
}

export function queueViewRows(result: QueueViewResult): Row[] {
  const [peer, ...rest] = result.sizes;
  return rest.flatMap((size) => {
    const growth = size.queued / peer.queued;
    const first = size.firstPageMs / peer.firstPageMs;
    const perRow = size.wholeQueueMs / size.queued / (peer.wholeQueueMs / peer.queued);
    return [
      {
        id: '6',
        measurement: `queue view: first ${result.page} positions, ${size.queued} vs ${peer.queued} queued`,
        figure: `${round(size.firstPageMs)} ms`,
        peer: `${round(peer.firstPageMs)} ms`,
        ratio: fmtRatio(first),
        // in the dispatch order a page's positions count every queued job that can start before it: one pass over the
        // queue (linear in it, not per job); judged as a whole queue per job returned, below
        target: `(one pass over the queue; ${growth}× the queue)`,
        verdict: 'INFO',
      },
      {
        id: '6',
        measurement: `queue view: last ${result.page} positions, ${size.queued} vs ${peer.queued} queued`,
        figure: `${round(size.lastPageMs)} ms`,
        peer: `${round(peer.lastPageMs)} ms`,
        ratio: fmtRatio(size.lastPageMs / peer.lastPageMs),
        target: `(an index count of the jobs before it; ${growth}× the queue)`,
        verdict: 'INFO',
      },
      {
        id: '6',
        measurement: `queue view: whole queue per job, ${size.queued} vs ${peer.queued} queued`,
        figure: `${round((size.wholeQueueMs / size.queued) * 1000)} µs/job`,
        peer: `${round((peer.wholeQueueMs / peer.queued) * 1000)} µs/job`,
        ratio: fmtRatio(perRow),
        target: '≤ 1.5× (linear in what it returns)',
        verdict: verdict(perRow <= 1.5),
      },
    ];
  });
}

export function queueViewNotes(result: QueueViewResult): string[] {
  return result.sizes.map(
    (s) =>
      `${s.queued} queued: first page ${round(s.firstPageMs)} ms, last page ${round(s.lastPageMs)} ms, ` +
      `whole queue ${round(s.wholeQueueMs)} ms (medians)`,
  );
}
