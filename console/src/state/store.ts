import type { DeploymentData, JobData, NetData, SchedulerData, SnapshotData, TrustData } from '../api/documents.js';

/** how many ended jobs the page keeps (newest first) */
export const RECENT_ENDS = 50;

export interface ConsoleState {
  /** by name; empty with `noNets` when the hub has none registered */
  nets: NetData[];
  noNets: boolean;
  jobs: ReadonlyMap<string, JobData>;
  trusts: TrustData[];
  deployment: DeploymentData | null;
}

export const EMPTY_STATE: ConsoleState = { nets: [], noNets: false, jobs: new Map(), trusts: [], deployment: null };

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

/** the queue's order as the hub reports it now; a job it no longer lists has left the queue */
export function applyQueuePositions(
  state: ConsoleState,
  positions: Array<{ id: string; queuePosition: number | null }>,
): ConsoleState {
  const byId = new Map(positions.map((p) => [p.id, p.queuePosition]));
  const jobs = new Map(state.jobs);
  for (const [id, job] of jobs) {
    if (job.status === 'QUEUED' && byId.has(id)) jobs.set(id, { ...job, queuePosition: byId.get(id) ?? null });
  }
  return { ...state, jobs };
}

/** a drainNet / resumeNet answer */
export function withDrained(state: ConsoleState, netId: string, drained: boolean): ConsoleState {
  return { ...state, nets: state.nets.map((net) => (net.id === netId ? { ...net, drained } : net)) };
}

export const withDeployment = (state: ConsoleState, deployment: DeploymentData): ConsoleState => ({ ...state, deployment });

export const withTrusts = (state: ConsoleState, trusts: TrustData[]): ConsoleState => ({ ...state, trusts });

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
