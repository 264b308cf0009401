/**
 * What a stall was, should one happen: while the tests run (started by the global setup), samples the test
 * PostgreSQL every second for statements active longer than STALL_MS — what they wait on and which sessions
 * block them — and notes when the sampler itself ran late (the machine, not the database, was stalled).
 * The global teardown prints what it saw; it never fails a run.
 */
import pg from 'pg';

const SAMPLE_MS = 1000;
const STALL_MS = 5000;

interface Stall {
  first: string;
  longestMs: number;
  line: string;
}

export interface StallWatch {
  /** Stops sampling; the report, or null when nothing stalled. */
  stop(): Promise<string | null>;
}

export async function startStallWatch(adminUrl: string): Promise<StallWatch> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'fl-test-stall-watch' });
  client.on('error', () => undefined); // a lost session ends the sampling (the query in flight rejects)
  await client.connect();
  const stalls = new Map<string, Stall>();
  const lateTicks: string[] = [];
  let last = Date.now();
  let sampling: Promise<void> = Promise.resolve();
  const sample = async () => {
    const { rows } = await client.query<{
      key: string;
      ms: number;
      line: string;
    }>(
      `select a.pid || '@' || a.query_start as key,
              (extract(epoch from clock_timestamp() - a.query_start) * 1000)::int as ms,
              format('%s on %s (%s, pid %s): %s/%s, blocked by %s: %s', a.backend_type, a.datname, a.application_name, a.pid,
                     a.wait_event_type, a.wait_event, pg_blocking_pids(a.pid), left(regexp_replace(a.query, '\\s+', ' ', 'g'), 160)) as line
         from pg_stat_activity a
        where a.pid <> pg_backend_pid() and a.state = 'active' and clock_timestamp() - a.query_start > $1 * interval '1 ms'`,
      [STALL_MS],
    );
    const at = new Date().toISOString().slice(11, 19);
    for (const row of rows) {
      const seen = stalls.get(row.key);
      if (seen) Object.assign(seen, { longestMs: row.ms, line: row.line });
      else stalls.set(row.key, { first: at, longestMs: row.ms, line: row.line });
    }
  };
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last > SAMPLE_MS + STALL_MS)
      lateTicks.push(`${new Date(now).toISOString().slice(11, 19)} ${now - last - SAMPLE_MS} ms late`);
    last = now;
    sampling = sampling.then(sample).catch(() => undefined);
  }, SAMPLE_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await sampling;
      await client.end().catch(() => undefined);
      if (stalls.size === 0 && lateTicks.length === 0) return null;
      return [
        `stall watch: statements active over ${STALL_MS} ms on the test PostgreSQL, and the watch's own late ticks:`,
        ...[...stalls.values()].map((s) => `  ${s.first} for ${s.longestMs} ms: ${s.line}`),
        ...lateTicks.map((t) => `  the watch ran ${t} (the test process was starved)`),
      ].join('\n');
    },
  };
}
