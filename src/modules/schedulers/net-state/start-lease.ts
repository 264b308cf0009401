/**
 * How long past its lease a start that reached `submit_job` is left to the
 * instance that claimed it, while that instance still has a database session:
 * a run may exist on the net that only that instance can confirm, and
 * requeueing the job meanwhile could run it twice. The instance retries its
 * confirmation until the end of this grace, then gives up to recovery.
 */
export function confirmGraceMs(netLeaseMs: number): number {
  return Math.max(netLeaseMs, MIN_CONFIRM_GRACE_MS);
}

/** The grace is at least this long, whatever the lease (a database restart takes seconds). */
export const MIN_CONFIRM_GRACE_MS = 5_000;

/**
 * After the database (re)started, an instance that was retrying a write
 * needs a moment to reconnect before its sessions show it is alive: until
 * the server has been up this long, nobody is taken for gone. Three times the
 * writes' longest retry delay (1 s).
 */
export const RECONNECT_GRACE_MS = 3_000;

/** The time (ms epoch, this host's clock) until which a start may confirm: its lease from the claim, plus the grace. */
export function confirmDeadline(claimedAt: Date | string, netLeaseMs: number): number {
  return new Date(claimedAt).getTime() + netLeaseMs + confirmGraceMs(netLeaseMs);
}
