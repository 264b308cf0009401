import { describe, expect, it } from '@jest/globals';
import type { JobData, NetData, ProjectData, TrustData } from '../api/documents.js';
import { History, percentile, startLatencies } from './history.js';
import {
  applyJob,
  applyQueue,
  applyScheduler,
  withDrained,
  busyNets,
  fromSnapshot,
  queue,
  queueLength,
  recentEnds,
  RECENT_ENDS,
  running,
  withProject,
  withProjects,
  withTrust,
} from './store.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, s)).toISOString();

function job(id: string, status: JobData['status'], extra: Partial<JobData> = {}): JobData {
  return {
    id,
    status,
    createdAt: at(0),
    startedAt: null,
    completedAt: null,
    backendJobId: null,
    queuePosition: null,
    priority: 'NORMAL',
    pendingReason: null,
    pendingDetail: null,
    notBefore: null,
    endReason: null,
    startAttempts: [],
    net: null,
    model: { id: `m-${id}`, name: `model ${id}`, status: 'PENDING', project: { id: 'p', name: 'Project' } },
    trusts: [],
    ...extra,
  };
}

const net = (id: string, name: string): NetData => ({
  id,
  name,
  endpoint: `http://${name}`,
  flBackend: 'NVFLARE',
  simulated: false,
  drained: false,
  scheduler: { id: `s-${id}`, status: 'AVAILABLE', job: null },
});

const snapshot = (jobs: JobData[], nets: NetData[] | undefined = [net('n2', 'net-2'), net('n1', 'net-1')]) => ({
  nets,
  jobs,
  trusts: [],
  projects: [],
  deploymentStatus: { enabled: false, since: null, busyNets: 0 },
});

const trust = (id: string, extra: Partial<TrustData> = {}): TrustData => ({
  id,
  name: `Trust ${id}`,
  slotName: null,
  maxConcurrentJobs: null,
  runningJobs: 0,
  onHold: false,
  holdUntil: null,
  clients: [],
  ...extra,
});

const project = (id: string, name: string, extra: Partial<ProjectData> = {}): ProjectData => ({
  id,
  name,
  share: 1,
  maxConcurrentJobs: null,
  runningJobs: 0,
  ...extra,
});

describe('the console state', () => {
  it('orders the queue by position, running jobs by start, ends newest first', () => {
    const state = fromSnapshot(
      snapshot([
        job('q2', 'QUEUED', { queuePosition: 2, createdAt: at(1) }),
        job('q1', 'QUEUED', { queuePosition: 1, createdAt: at(2) }),
        job('r2', 'IN_PROGRESS', { startedAt: at(9) }),
        job('r1', 'IN_PROGRESS', { startedAt: at(5) }),
        job('c1', 'COMPLETED', { completedAt: at(20) }),
        job('d1', 'DELETED', { completedAt: at(30) }),
      ]),
    );
    expect(state.nets.map((n) => n.name)).toEqual(['net-1', 'net-2']);
    expect(queue(state).map((j) => j.id)).toEqual(['q1', 'q2']);
    expect(running(state).map((j) => j.id)).toEqual(['r1', 'r2']);
    expect(recentEnds(state).map((j) => j.id)).toEqual(['d1', 'c1']);
    expect(queueLength(state)).toBe(2);
  });

  it('follows a job through its states and drops its queue position when it leaves the queue', () => {
    let state = fromSnapshot(snapshot([]));
    state = applyJob(state, job('a', 'QUEUED', { queuePosition: 1 }));
    expect(queue(state).map((j) => j.id)).toEqual(['a']);
    state = applyJob(state, job('a', 'IN_PROGRESS', { queuePosition: 1, startedAt: at(3), net: { id: 'n1', name: 'net-1' } }));
    expect(queue(state)).toEqual([]);
    expect(running(state)[0]).toMatchObject({ id: 'a', queuePosition: null, net: { name: 'net-1' } });
    state = applyJob(state, job('a', 'COMPLETED', { completedAt: at(9) }));
    expect(running(state)).toEqual([]);
    expect(recentEnds(state).map((j) => j.status)).toEqual(['COMPLETED']);
  });

  it('patches a net from a scheduler event and ignores an unknown net', () => {
    let state = fromSnapshot(snapshot([]));
    state = applyScheduler(state, { id: 's-n1', status: 'BUSY', net: { id: 'n1', drained: false }, job: { id: 'a' } });
    expect(busyNets(state)).toBe(1);
    expect(state.nets[0]?.scheduler).toEqual({ id: 's-n1', status: 'BUSY', job: { id: 'a' } });
    const same = applyScheduler(state, { id: 's-x', status: 'BUSY', net: { id: 'nope', drained: false }, job: null });
    expect(same).toBe(state);
  });

  it("follows a drain and a resume, from a scheduler event or from the action's answer", () => {
    let state = fromSnapshot(snapshot([]));
    state = applyScheduler(state, { id: 's-n1', status: 'BUSY', net: { id: 'n1', drained: true }, job: { id: 'a' } });
    expect(state.nets.find((n) => n.id === 'n1')?.drained).toBe(true);
    state = withDrained(state, 'n1', false);
    expect(state.nets.find((n) => n.id === 'n1')?.drained).toBe(false);
    expect(withDrained(state, 'nope', true).nets).toEqual(state.nets);
  });

  it("takes the hub's queue for jobs still queued, and keeps a job whose later event moved it on", () => {
    let state = fromSnapshot(snapshot([job('a', 'QUEUED', { queuePosition: 2 }), job('b', 'IN_PROGRESS')]));
    state = applyQueue(state, [
      job('a', 'QUEUED', { queuePosition: 1, priority: 'HIGH', pendingReason: 'TRUST_HELD', pendingDetail: 'Trust x' }),
      job('b', 'QUEUED', { queuePosition: 2 }), // read before its start's event arrived
      job('c', 'QUEUED', { queuePosition: 3 }),
    ]);
    expect(state.jobs.get('a')).toMatchObject({ queuePosition: 1, priority: 'HIGH', pendingReason: 'TRUST_HELD' });
    expect(state.jobs.get('b')).toMatchObject({ status: 'IN_PROGRESS', queuePosition: null });
    expect(queue(state).map((j) => j.id)).toEqual(['a', 'c']);
  });

  it('replaces a trust or a project from its event, adds a new one, keeps projects by name', () => {
    let state = fromSnapshot({ ...snapshot([]), trusts: [trust('t1'), trust('t2')], projects: [project('p2', 'B')] });
    state = withTrust(state, trust('t2', { onHold: true, holdUntil: at(60) }));
    expect(state.trusts.map((t) => [t.id, t.onHold])).toEqual([
      ['t1', false],
      ['t2', true],
    ]);
    state = withTrust(state, trust('t3', { maxConcurrentJobs: 2 }));
    expect(state.trusts.map((t) => t.id)).toEqual(['t1', 't2', 't3']);
    state = withProject(state, project('p1', 'A', { share: 3 }));
    state = withProject(state, project('p2', 'B', { runningJobs: 1 }));
    expect(state.projects.map((p) => [p.name, p.share, p.runningJobs])).toEqual([
      ['A', 3, 0],
      ['B', 1, 1],
    ]);
    expect(withProjects(state, [project('p9', 'Z'), project('p8', 'Y')]).projects.map((p) => p.name)).toEqual(['Y', 'Z']);
  });

  it('keeps the newest ended jobs only, and says when no net is registered', () => {
    const ends = Array.from({ length: RECENT_ENDS + 5 }, (_, i) => job(`c${i}`, 'COMPLETED', { completedAt: at(i) }));
    const state = fromSnapshot({ ...snapshot([...ends, job('q', 'QUEUED')]), nets: undefined });
    expect(recentEnds(state)).toHaveLength(RECENT_ENDS);
    expect(recentEnds(state).at(-1)?.id).toBe('c5');
    expect(queue(state)).toHaveLength(1);
    expect(state.noNets).toBe(true);
  });
});

describe('the charts', () => {
  it('keeps one hour of samples, one per instant', () => {
    const history = new History(60_000);
    history.add({ at: 1_000, busyNets: 0, queueLength: 1 });
    history.add({ at: 1_000, busyNets: 1, queueLength: 0 });
    history.add({ at: 30_000, busyNets: 1, queueLength: 3 });
    history.add({ at: 500, busyNets: 9, queueLength: 9 }); // out of order: ignored
    history.add({ at: 61_500, busyNets: 2, queueLength: 2 });
    expect(history.all()).toEqual([
      { at: 30_000, busyNets: 1, queueLength: 3 },
      { at: 61_500, busyNets: 2, queueLength: 2 },
    ]);
  });

  it('computes nearest-rank percentiles of start latencies', () => {
    expect(percentile([], 50)).toBeNull();
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 99), percentile(values, 100)]).toEqual([
      50, 95, 99, 100,
    ]);
    expect(percentile([7], 99)).toBe(7);
    expect(startLatencies([job('a', 'QUEUED'), job('b', 'COMPLETED', { createdAt: at(1), startedAt: at(4) })])).toEqual([
      { at: Date.parse(at(4)), ms: 3000 },
    ]);
  });
});
