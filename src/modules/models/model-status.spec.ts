import { describe, expect, it } from '@jest/globals';
import { decideReportedStatus, ModelStatus } from './model-status.js';

const { PENDING, INITIATED, PREPARED, RUNNING, RESULTS_UPLOADED, RESULTS_UPLOAD_FAILED, STOPPED, ERROR } = ModelStatus;

describe('decideReportedStatus', () => {
  it.each([
    [PENDING, INITIATED, { kind: 'apply', endsRun: false }],
    [INITIATED, PREPARED, { kind: 'apply', endsRun: false }],
    [PREPARED, RUNNING, { kind: 'apply', endsRun: false }],
    [RUNNING, RESULTS_UPLOADED, { kind: 'apply', endsRun: true }],
    [RUNNING, RESULTS_UPLOAD_FAILED, { kind: 'apply', endsRun: true }],
    [RUNNING, ERROR, { kind: 'apply', endsRun: true }],
    [INITIATED, STOPPED, { kind: 'apply', endsRun: true }],
    [RUNNING, RUNNING, { kind: 'ignore' }],
    [STOPPED, RUNNING, { kind: 'ignore' }],
    [STOPPED, RESULTS_UPLOADED, { kind: 'ignore' }],
    [STOPPED, ERROR, { kind: 'ignore' }],
  ] as const)('%s → %s', (from, to, expected) => {
    expect(decideReportedStatus(from, to)).toEqual(expected);
  });

  it.each([
    [RUNNING, PENDING],
    [RUNNING, INITIATED],
    [RESULTS_UPLOADED, RUNNING],
    [ERROR, RUNNING],
    [RESULTS_UPLOAD_FAILED, RESULTS_UPLOADED],
  ] as const)('rejects %s → %s', (from, to) => {
    expect(decideReportedStatus(from, to).kind).toBe('reject');
  });
});
