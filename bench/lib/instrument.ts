import type { INestApplication } from '@nestjs/common';
import { ClaimService } from '../../src/modules/schedulers/picking-up/claim.service.js';
import { RecoveryService } from '../../src/modules/schedulers/net-state/recovery.service.js';

/** How often a hub ran its pickup cycle and its claim transaction, and how often the claim found nothing. */
export interface CycleCounter {
  /** pickup cycles (each starts with RecoveryService.recoverExpiredLeases) */
  cycles: number;
  /** ClaimService.claimBatch calls (one transaction each) */
  claims: number;
  /** claims that returned no job */
  emptyClaims: number;
  /** jobs claimed */
  claimed: number;
}

/**
 * Counts a hub's cycles and claims by wrapping two methods of its service
 * instances (the bench's own instances; nothing in src/ changes). The pickup
 * cycle calls them through the instances, so every call is seen.
 */
export function countCycles(app: INestApplication): CycleCounter {
  const counter: CycleCounter = { cycles: 0, claims: 0, emptyClaims: 0, claimed: 0 };
  const claims = app.get(ClaimService);
  const claimBatch = claims.claimBatch.bind(claims);
  claims.claimBatch = async (...args: Parameters<ClaimService['claimBatch']>) => {
    counter.claims++;
    const claimed = await claimBatch(...args);
    if (claimed.length === 0) counter.emptyClaims++;
    counter.claimed += claimed.length;
    return claimed;
  };
  const recovery = app.get(RecoveryService);
  const recover = recovery.recoverExpiredLeases.bind(recovery);
  recovery.recoverExpiredLeases = async () => {
    counter.cycles++;
    return recover();
  };
  return counter;
}

export function sumCounters(counters: readonly CycleCounter[]): CycleCounter {
  return counters.reduce(
    (sum, c) => ({
      cycles: sum.cycles + c.cycles,
      claims: sum.claims + c.claims,
      emptyClaims: sum.emptyClaims + c.emptyClaims,
      claimed: sum.claimed + c.claimed,
    }),
    { cycles: 0, claims: 0, emptyClaims: 0, claimed: 0 },
  );
}
