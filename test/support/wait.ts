/**
 * Waiting in tests: wait for the condition, with a deadline, never for a fixed time.
 *
 *   await until(async () => (await jobRow(id)).status === 'COMPLETED', { what: 'the job completed' });
 *   const row = await until(async () => (await rows()).find((r) => r.online), { what: 'a client online' });
 *
 * `until` polls `condition` until it returns something truthy (that value is returned: a row, a count
 * above 0, `true`; so compare to wait for a 0: `=== 0`), and throws after `timeoutMs` naming `what` and the
 * last value seen. Deadlines are generous (the machine is shared and loaded): a deadline is a bound on a
 * hang, not a measurement. `sleep` is for pacing a loop or for letting time pass on purpose (a lease must
 * run out), never for waiting on an outcome.
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** 20 s: well above anything a test waits for on a loaded machine, well below jest's 60 s test timeout. */
export const DEFAULT_WAIT_MS = 20_000;

export interface UntilOptions {
  /** what is awaited, for the error message */
  what: string;
  timeoutMs?: number;
  /** pause between two looks (default 20 ms) */
  intervalMs?: number;
}

type Awaited2<T> = T extends Promise<infer U> ? U : T;
type Found<T> = Exclude<Awaited2<T>, false | undefined | null | 0 | ''>;

export async function until<T>(condition: () => T, options: UntilOptions): Promise<Found<T>> {
  const { what, timeoutMs = DEFAULT_WAIT_MS, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = (await condition()) as Awaited2<T>;
    if (value) return value as Found<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last seen: ${String(value)})`);
    await sleep(intervalMs);
  }
}
