import { performance } from 'node:perf_hooks';

/** A timer this much past its time (and at least a tenth of its timeout) says the hub itself did not run meanwhile. */
const STALL_MS = 25;
/** However often the hub stalls, a call gets at most this many extensions. */
const MAX_EXTENSIONS = 8;

/**
 * A net call's deadline that counts only the time the hub was listening.
 *
 * Node runs due timers before it reads its sockets: when the hub's process
 * stalls (CPU starved, a long garbage collection) past a call's timeout, the
 * timer fires first although the net's answer may already be waiting, unread,
 * on the socket — and a `submit_job` that did start its run would count as
 * failed: the net held back as broken, the good run aborted by the sweep, the
 * job run again. So a timer that fires late by more than a stall
 * (`STALL_MS`, or a tenth of the timeout) does not abort yet: it gives the
 * call the time the hub was away (up to the timeout again) and looks again,
 * after the sockets have been read. A net that does not answer while the hub
 * runs is still given up on at its timeout.
 */
export function callDeadline(timeoutMs: number, onTimeout: () => void): { clear(): void } {
  const stallMs = Math.max(STALL_MS, timeoutMs / 10);
  let due = performance.now() + timeoutMs;
  let extensions = 0;
  let timer: NodeJS.Timeout;
  const arm = (delayMs: number) => {
    timer = setTimeout(check, delayMs);
    timer.unref();
  };
  const check = () => {
    const now = performance.now();
    const late = now - due;
    if (late > stallMs && extensions < MAX_EXTENSIONS) {
      extensions += 1;
      const grantMs = Math.min(late, timeoutMs);
      due = now + grantMs;
      arm(grantMs);
      return;
    }
    onTimeout();
  };
  arm(timeoutMs);
  return { clear: () => clearTimeout(timer) };
}
