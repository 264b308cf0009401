import { DomainError } from '../../../common/errors.js';

/** Backoff between retries of a start's writes: quick at first, then once a second. */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1000];

/** SQLSTATEs that say the database was away or let go of the statement, not that the statement is wrong. */
const TRANSIENT_SQLSTATE = /^(08...|57P0[123]|53300|40001|40P01)$/;

/**
 * True when an error says the database could not be reached or gave up on the
 * statement (a connection lost or refused, a server shutting down, a
 * serialization failure, a deadlock): trying again may succeed. An error with
 * any other SQLSTATE (a constraint, a syntax error), a domain error or a
 * programming error would fail the same way again.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (error instanceof DomainError || error instanceof TypeError || error instanceof RangeError) return false;
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  // no SQLSTATE: the connection itself (reset, refused, terminated, timed out)
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return TRANSIENT_SQLSTATE.test(code);
}

/**
 * Retries a write whose loss would cost a run while the database is away (a
 * dropped connection, a restart, a fail-over) — until `deadline` (ms epoch),
 * then the error stands. Only transient errors are retried: a lost
 * compare-and-set (a domain error) or a statement the database refuses
 * stands at once, instead of holding the start (and a shutdown) until the deadline.
 */
export async function retryOnDatabaseError<T>(deadline: number, write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
      if (!isTransientDatabaseError(error) || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
