import { performance } from 'node:perf_hooks';
import pg from 'pg';

/**
 * Listens for `bench_job_started` (see installStartedTrigger) and tells when a
 * job was started, by `performance.now()` of this thread at the arrival of the
 * notification.
 */
export class StartedJobs {
  private readonly arrived = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();

  private constructor(private readonly client: pg.Client) {
    client.on('notification', (message) => {
      const at = performance.now();
      const jobId = message.payload ?? '';
      const waiter = this.waiters.get(jobId);
      if (waiter) {
        this.waiters.delete(jobId);
        waiter(at);
      } else {
        this.arrived.set(jobId, at);
      }
    });
  }

  static async listen(databaseUrl: string): Promise<StartedJobs> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query('listen bench_job_started');
    return new StartedJobs(client);
  }

  /** When the job was started; waits for it (rejects after `timeoutMs`). */
  waitFor(jobId: string, timeoutMs: number): Promise<number> {
    const at = this.arrived.get(jobId);
    if (at !== undefined) {
      this.arrived.delete(jobId);
      return Promise.resolve(at);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(jobId);
        reject(new Error(`job ${jobId} was not started within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(jobId, (when) => {
        clearTimeout(timer);
        resolve(when);
      });
    });
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
