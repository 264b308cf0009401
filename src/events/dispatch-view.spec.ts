import { describe, expect, it } from '@jest/globals';
import { DispatchView } from './dispatch-view.js';
import type { HubEvent } from './hub-events.js';

const scheduler = (id: string, status: string): HubEvent => ({
  kind: 'scheduler',
  id,
  status,
  netId: 'n',
  jobId: null,
  leaseUntil: null,
  updatedAt: '',
});
const job = (id: string, status: string): HubEvent => ({
  kind: 'job',
  id,
  status,
  modelId: 'm',
  netId: null,
  createdAt: '',
  startedAt: null,
  completedAt: null,
  backendJobId: null,
  attempts: 0,
});

describe('DispatchView', () => {
  it('is worth a cycle only with a free net and a queued job', () => {
    const view = new DispatchView();
    view.reset([], []);
    expect(view.apply(job('j1', 'QUEUED'))).toBe(true);
    expect(view.worthACycle()).toBe(false); // no free net
    expect(view.apply(scheduler('s1', 'AVAILABLE'))).toBe(true);
    expect(view.worthACycle()).toBe(true);
    // another instance claimed them
    expect(view.apply(job('j1', 'IN_PROGRESS'))).toBe(false);
    expect(view.apply(scheduler('s1', 'BUSY'))).toBe(false);
    expect(view.worthACycle()).toBe(false);
  });

  it('starts from a snapshot, and repeated notifications of the same state change nothing', () => {
    const view = new DispatchView();
    view.reset(['s1'], ['j1']);
    expect(view.worthACycle()).toBe(true);
    expect(view.apply(scheduler('s1', 'AVAILABLE'))).toBe(false);
    expect(view.apply(job('j1', 'QUEUED'))).toBe(false);
    expect(view.apply(job('j1', 'DELETED'))).toBe(false);
    expect(view.worthACycle()).toBe(false);
  });
});
