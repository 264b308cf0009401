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

const trust: HubEvent = {
  kind: 'trust',
  id: 't1',
  name: 'T',
  slotName: null,
  maxConcurrentJobs: null,
  onHold: false,
  holdUntil: null,
};
const project: HubEvent = { kind: 'project', id: 'p1', name: 'P', maxConcurrentJobs: 2, share: 1 };

describe('DispatchView', () => {
  it('finds a trust or project change worth a cycle only while a free net and a queued job wait', () => {
    const view = new DispatchView();
    view.reset(['s1'], []);
    expect(view.apply(trust)).toBe(false);
    expect(view.apply(project)).toBe(false);
    view.apply(job('j1', 'QUEUED'));
    // the job may have waited for that trust or project: it may start now
    expect(view.apply(trust)).toBe(true);
    expect(view.apply(project)).toBe(true);
    expect(view.worthACycle()).toBe(true); // the change moved no net and no job
  });

  it('is worth a cycle only with a free net and a queued job', () => {
    const view = new DispatchView();
    view.reset([], []);
    expect(view.apply(job('j1', 'QUEUED'))).toBe(false); // no free net: nothing to dispatch yet
    expect(view.worthACycle()).toBe(false);
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

  it('calls a change new work only when it raises the number of (free net, queued job) pairs', () => {
    const view = new DispatchView();
    view.reset(['s1'], ['j1']);
    // one more queued job while the only free net is already paired with j1: whoever freed s1 claims it
    expect(view.apply(job('j2', 'QUEUED'))).toBe(false);
    expect(view.apply(scheduler('s2', 'AVAILABLE'))).toBe(true); // now two pairs
    expect(view.apply(scheduler('s3', 'AVAILABLE'))).toBe(false); // two queued jobs, three nets
    expect(view.apply(job('j3', 'QUEUED'))).toBe(true);
    expect(view.worthACycle()).toBe(true);
  });

  it('forgets what this instance claimed at once, and is not live before a snapshot or after the stream is lost', () => {
    const view = new DispatchView();
    expect(view.live).toBe(false);
    view.reset(['s1', 's2'], ['j1']);
    expect(view.live).toBe(true);
    view.claimed(['s1'], ['j1']);
    expect(view.worthACycle()).toBe(false);
    expect(view.apply(job('j2', 'QUEUED'))).toBe(true); // s2 is still free
    view.lost();
    expect(view.live).toBe(false);
  });
});
