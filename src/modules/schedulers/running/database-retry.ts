import { DomainError } from '../../../common/errors.js';

/** Backoff between retries of a start's writes: quick at first, then once a second. */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1000];

/**
 * Retries a write whose loss would cost a run while the database is away (a
 * dropped connection, a restart, a fail-over) — until `deadline` (ms epoch),
 * then the error stands. Domain errors (a lost compare-and-set) are not retried.
 */
export async function retryOnDatabaseError<T>(deadline: number, write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
      if (error instanceof DomainError || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
