import type { DeploymentData, JobData, NetData, ProjectData, SchedulerData, SnapshotData, TrustData } from '../api/documents.js';

/** how many ended jobs the page keeps (newest first) */
export const RECENT_ENDS = 50;

export interface ConsoleState {
  /** by name; empty with `noNets` when the hub has none registered */
  nets: NetData[];
  noNets: boolean;
  jobs: ReadonlyMap<string, JobData>;
  trusts: TrustData[];
  projects: ProjectData[];
  deployment: DeploymentData | null;
}

export const EMPTY_STATE: ConsoleState = {
  nets: [],
  noNets: false,
  jobs: new Map(),
  trusts: [],
  projects: [],
  deployment: null,
};

const ended = (job: JobData) => job.status === 'COMPLETED' || job.status === 'DELETED';
const endTime = (job: JobData) => Date.parse(job.completedAt ?? job.startedAt ?? job.createdAt);

/** keeps every live job and the newest RECENT_ENDS ended ones */
function pruned(jobs: Map<string, JobData>): Map<string, JobData> {
  const ends = [...jobs.values()].filter(ended);
  if (ends.length <= RECENT_ENDS) return jobs;
  ends.sort((a, b) => endTime(b) - endTime(a));
  for (const job of ends.slice(RECENT_ENDS)) jobs.delete(job.id);
  return jobs;
}

export function fromSnapshot(snapshot: Partial<SnapshotData> & Omit<SnapshotData, 'nets'>): ConsoleState {
  const jobs = new Map(snapshot.jobs.map((job) => [job.id, job]));
  return {
    nets: [...(snapshot.nets ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
    noNets: snapshot.nets === undefined,
    jobs: pruned(jobs),
    trusts: snapshot.trusts,
    projects: byName(snapshot.projects),
    deployment: snapshot.deploymentStatus,
  };
}

/** a jobUpdated event: the job as it is now */
export function applyJob(state: ConsoleState, job: JobData): ConsoleState {
  const jobs = new Map(state.jobs);
  jobs.set(job.id, job.status === 'QUEUED' ? job : { ...job, queuePosition: null });
  return { ...state, jobs: pruned(jobs) };
}

/** a schedulerUpdated event: its net's state and job */
export function applyScheduler(state: ConsoleState, scheduler: SchedulerData): ConsoleState {
  if (!state.nets.some((net) => net.id === scheduler.net.id)) return state;
  const nets = state.nets.map((net) =>
    net.id === scheduler.net.id
      ? { ...net, drained: scheduler.net.drained, scheduler: { id: scheduler.id, status: scheduler.status, job: scheduler.job } }
      : net,
  );
  return { ...state, nets };
}

/**
 * The queue as the hub reports it now (positions, reasons, priorities). A job
 * the page already knows to have left the queue stays as it is (its event
 * came after this read); one the answer leaves out is left to its own event.
 */
export function applyQueue(state: ConsoleState, queued: JobData[]): ConsoleState {
  const jobs = new Map(state.jobs);
  for (const job of queued) {
    const known = jobs.get(job.id);
    if (!known || known.status === 'QUEUED') jobs.set(job.id, job);
  }
  return { ...state, jobs };
}

/** a drainNet / resumeNet answer */
export function withDrained(state: ConsoleState, netId: string, drained: boolean): ConsoleState {
  return { ...state, nets: state.nets.map((net) => (net.id === netId ? { ...net, drained } : net)) };
}

export const withDeployment = (state: ConsoleState, deployment: DeploymentData): ConsoleState => ({ ...state, deployment });

export const withTrusts = (state: ConsoleState, trusts: TrustData[]): ConsoleState => ({ ...state, trusts });

export const withProjects = (state: ConsoleState, projects: ProjectData[]): ConsoleState => ({
  ...state,
  projects: byName(projects),
});

/** a trustUpdated event or an action's answer: that trust as it is now */
export const withTrust = (state: ConsoleState, trust: TrustData): ConsoleState => ({
  ...state,
  trusts: replaced(state.trusts, trust),
});

/** a projectUpdated event or an action's answer */
export const withProject = (state: ConsoleState, project: ProjectData): ConsoleState => ({
  ...state,
  projects: byName(replaced(state.projects, project)),
});

function replaced<T extends { id: string }>(list: T[], item: T): T[] {
  return list.some((x) => x.id === item.id) ? list.map((x) => (x.id === item.id ? item : x)) : [...list, item];
}

const byName = <T extends { name: string }>(list: T[]): T[] => [...list].sort((a, b) => a.name.localeCompare(b.name));

// ---- what the page shows ----

/** QUEUED jobs in dispatch order */
export function queue(state: ConsoleState): JobData[] {
  const position = (job: JobData) => job.queuePosition ?? Number.MAX_SAFE_INTEGER;
  return [...state.jobs.values()]
    .filter((job) => job.status === 'QUEUED')
    .sort((a, b) => position(a) - position(b) || Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

/** IN_PROGRESS jobs, longest running first */
export function running(state: ConsoleState): JobData[] {
  return [...state.jobs.values()]
    .filter((job) => job.status === 'IN_PROGRESS')
    .sort((a, b) => Date.parse(a.startedAt ?? a.createdAt) - Date.parse(b.startedAt ?? b.createdAt));
}

/** ended jobs, newest first */
export function recentEnds(state: ConsoleState): JobData[] {
  return [...state.jobs.values()].filter(ended).sort((a, b) => endTime(b) - endTime(a));
}

export const busyNets = (state: ConsoleState): number => state.nets.filter((net) => net.scheduler.status === 'BUSY').length;

export const queueLength = (state: ConsoleState): number => [...state.jobs.values()].filter((j) => j.status === 'QUEUED').length;
