import type pg from 'pg';
import type { FakeNet } from './fake-net.js';

/**
 * What a broken invariant left to read, for a failure message: for each job, its runs on the (fake) nets,
 * the nets' calls about its model (time, net, call, path), its start attempts as recorded, and the hub's log
 * lines that name it (when the test can read the hub's log: its warnings say why a start failed or a run
 * was aborted).
 */
export async function trailOf(
  pool: pg.Pool,
  nets: FakeNet[],
  jobs: ReadonlyArray<{ id: string; modelId: string }>,
  hubLogs?: () => string,
): Promise<string[]> {
  const trail: string[] = [];
  for (const job of jobs) {
    const runs = nets.flatMap((net, i) =>
      net
        .runs()
        .filter((r) => r.modelId === job.modelId)
        .map((r) => ({ net: i + 1, run: r.job_id, status: r.status })),
    );
    const calls = nets.flatMap((net, i) =>
      net.requests
        .filter((r) => r.path.includes(job.modelId) || runs.some((run) => r.path.includes(run.run)))
        .map((r) => `${r.at.toISOString()} net #${i + 1} ${r.call ?? '?'} ${r.method} ${r.path}`),
    );
    trail.push(`runs of model ${job.modelId}: ${JSON.stringify(runs)}`);
    const attempts = await pool.query<{ at: Date; net: string | null; outcome: string; detail: string | null }>(
      `select a.at, n.name as net, a.outcome, a.detail from start_attempt a left join net n on n.id = a.net_id
        where a.job_id = $1 order by a.seq`,
      [job.id],
    );
    trail.push(`trail of job ${job.id} (model ${job.modelId}): net calls ${JSON.stringify(calls.sort())}`);
    trail.push(`  start attempts ${JSON.stringify(attempts.rows)}`);
    if (hubLogs) {
      const lines = hubLogs()
        .split('\n')
        .filter((l) => l.includes(job.id) || l.includes(job.modelId));
      trail.push(`  hub log lines naming it ${JSON.stringify(lines.slice(-30))}`);
    }
  }
  return trail;
}
