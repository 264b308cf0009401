import { describe, expect, it } from '@jest/globals';
import { canJobMove, LIVE_JOB_STATUSES, REMOVABLE_JOB_STATUSES } from './job-state.js';
import { JobStatus } from './job.entity.js';

const { QUEUED, IN_PROGRESS, COMPLETED, DELETED } = JobStatus;

describe('job transitions', () => {
  it.each([
    [QUEUED, IN_PROGRESS, true],
    [QUEUED, DELETED, true],
    [QUEUED, COMPLETED, false],
    [IN_PROGRESS, COMPLETED, true],
    [IN_PROGRESS, DELETED, true],
    [IN_PROGRESS, QUEUED, true],
    [COMPLETED, DELETED, true],
    [COMPLETED, IN_PROGRESS, false],
    [COMPLETED, QUEUED, false],
    [DELETED, QUEUED, false],
    [DELETED, IN_PROGRESS, false],
    [DELETED, COMPLETED, false],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canJobMove(from, to)).toBe(allowed);
  });

  it('derives the removable and live statuses from the table', () => {
    expect([...REMOVABLE_JOB_STATUSES].sort()).toEqual([COMPLETED, IN_PROGRESS, QUEUED].sort());
    expect(LIVE_JOB_STATUSES).toEqual([QUEUED, IN_PROGRESS]);
  });
});
