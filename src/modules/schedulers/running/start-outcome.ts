import { DomainError } from '../../../common/errors.js';
import { NetCallError } from '../../../fl-backends/net-client.js';
import type { FailedStart } from '../../jobs/lifecycle/record-failed-start.js';
import { StartOutcome } from '../../jobs/lifecycle/states.js';

export type { FailedStart };

/**
 * What a start's error means for the job:
 *  - offline clients (NVFLARE): the job waits (CLIENTS_OFFLINE, not a failed start);
 *  - a 4xx answer: the net refused this job (REJECTED, not retried);
 *  - any other failed call (5xx, timeout, refused, reset, a malformed answer): NET_ERROR, retried;
 *  - a job that cannot start at all (a trust without a kit slot, no cohort query): REJECTED;
 *  - anything else (the database, a fault of the hub): NET_ERROR, retried, the net not blamed.
 */
export function classifyStartError(error: unknown): FailedStart {
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof NetCallError) {
    const refused = error.httpStatus !== undefined && error.httpStatus >= 400 && error.httpStatus < 500;
    return refused
      ? { outcome: StartOutcome.REJECTED, detail, netFailed: false }
      : { outcome: StartOutcome.NET_ERROR, detail, netFailed: true };
  }
  if (error instanceof DomainError) {
    if (error.details?.reason === 'CLIENTS_OFFLINE') {
      const offline = error.details.offlineClients;
      const names = Array.isArray(offline) ? offline.join(', ') : '';
      return { outcome: StartOutcome.CLIENTS_OFFLINE, detail: `clients offline: ${names}`, netFailed: false };
    }
    return { outcome: StartOutcome.REJECTED, detail, netFailed: false };
  }
  return { outcome: StartOutcome.NET_ERROR, detail, netFailed: false };
}

/** A short label for why a start failed (metrics). */
export function failureReason(error: unknown): string {
  if (error instanceof NetCallError) return `net:${error.call}`;
  if (error instanceof DomainError) return typeof error.details?.reason === 'string' ? error.details.reason : error.code;
  return 'internal';
}
