/**
 * Every GraphQL document the console sends, in one place: a field the page
 * shows is one more name in a selection below plus a column in the page.
 */
export const JOB_FIELDS = `
  id status createdAt startedAt completedAt backendJobId queuePosition
  priority pendingReason pendingDetail notBefore endReason
  startAttempts { at net { id name } outcome detail }
  net { id name }
  model { id name status project { id name } }
  trusts { id name slotName }`;

export const NET_FIELDS = `id name endpoint flBackend simulated drained scheduler { id status job { id } }`;

/** a drain or resume is announced as a change of the net's scheduler, so `drained` comes with it */
export const SCHEDULER_FIELDS = `id status net { id drained } job { id }`;

export const TRUST_FIELDS = `id name slotName maxConcurrentJobs runningJobs onHold holdUntil
  clients { net { id name } online lastSeen }`;

export const PROJECT_FIELDS = `id name share maxConcurrentJobs runningJobs`;

export const DEPLOYMENT_FIELDS = `enabled since busyNets`;

/** The whole picture, taken at sign-in and after every reconnect. */
export const SNAPSHOT = `query ConsoleSnapshot {
  nets { ${NET_FIELDS} }
  jobs { ${JOB_FIELDS} }
  trusts { ${TRUST_FIELDS} }
  projects { ${PROJECT_FIELDS} }
  deploymentStatus { ${DEPLOYMENT_FIELDS} }
}`;

/** `nets` answers NOT_FOUND when no net is registered; the rest of the picture still loads. */
export const SNAPSHOT_WITHOUT_NETS = `query ConsoleSnapshotWithoutNets {
  jobs { ${JOB_FIELDS} }
  trusts { ${TRUST_FIELDS} }
  projects { ${PROJECT_FIELDS} }
  deploymentStatus { ${DEPLOYMENT_FIELDS} }
}`;

/**
 * The queue after a change: any job's change, a hold, a limit or a net moves
 * the others and changes why they wait, so the page re-reads it whole.
 */
export const QUEUE = `query ConsoleQueue { jobs(status: QUEUED) { ${JOB_FIELDS} } }`;

/** what no job event carries: running counts per trust and project follow every start and end */
export const SLOW_PARTS = `query ConsoleSlowParts {
  trusts { ${TRUST_FIELDS} }
  projects { ${PROJECT_FIELDS} }
  deploymentStatus { ${DEPLOYMENT_FIELDS} }
}`;

export const JOB_UPDATED = `subscription ConsoleJobs { jobUpdated { ${JOB_FIELDS} } }`;

export const SCHEDULER_UPDATED = `subscription ConsoleSchedulers { schedulerUpdated { ${SCHEDULER_FIELDS} } }`;

export const TRUST_UPDATED = `subscription ConsoleTrusts { trustUpdated { ${TRUST_FIELDS} } }`;

export const PROJECT_UPDATED = `subscription ConsoleProjects { projectUpdated { ${PROJECT_FIELDS} } }`;

export const STOP_TRAINING = `mutation ConsoleStop($modelId: ID!) { stopTraining(modelId: $modelId) { id status } }`;

export const REMOVE_JOB = `mutation ConsoleRemove($id: ID!) { removeJob(id: $id) { ${JOB_FIELDS} } }`;

export const SET_JOB_PRIORITY = `mutation ConsolePriority($jobId: ID!, $priority: JobPriority!) {
  setJobPriority(jobId: $jobId, priority: $priority) { ${JOB_FIELDS} }
}`;

export const HOLD_TRUST = `mutation ConsoleHold($trustId: ID!, $until: DateTime) {
  holdTrust(trustId: $trustId, until: $until) { ${TRUST_FIELDS} }
}`;

export const RELEASE_TRUST = `mutation ConsoleRelease($trustId: ID!) { releaseTrust(trustId: $trustId) { ${TRUST_FIELDS} } }`;

export const SET_TRUST_LIMIT = `mutation ConsoleTrustLimit($trustId: ID!, $maxConcurrentJobs: Int) {
  setTrustLimit(trustId: $trustId, maxConcurrentJobs: $maxConcurrentJobs) { ${TRUST_FIELDS} }
}`;

export const SET_PROJECT_LIMITS = `mutation ConsoleProjectLimits($projectId: ID!, $maxConcurrentJobs: Int, $share: Int) {
  setProjectLimits(projectId: $projectId, maxConcurrentJobs: $maxConcurrentJobs, share: $share) { ${PROJECT_FIELDS} }
}`;

export const DRAIN_NET = `mutation ConsoleDrain($netId: ID!) { drainNet(netId: $netId) { id drained } }`;

export const RESUME_NET = `mutation ConsoleResume($netId: ID!) { resumeNet(netId: $netId) { id drained } }`;

export const SET_DEPLOYMENT_MODE = `mutation ConsoleDeployment($enabled: Boolean!) {
  setDeploymentMode(enabled: $enabled) { ${DEPLOYMENT_FIELDS} }
}`;

// ---- the shapes these documents return ----

export type JobStatus = 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED' | 'DELETED';

export const JOB_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export type JobPriority = (typeof JOB_PRIORITIES)[number];

export type PendingReason =
  | 'WAITING_FOR_NET'
  | 'CLIENTS_OFFLINE'
  | 'RETRY_BACKOFF'
  | 'TRUST_AT_CAPACITY'
  | 'PROJECT_AT_CAPACITY'
  | 'TRUST_HELD'
  | 'NO_NET'
  | 'NOT_BEFORE'
  | 'DEPLOYMENT_MODE';

export type EndReason =
  'REMOVED' | 'STOPPED' | 'UNAPPROVED_TRUST' | 'START_FAILED' | 'ADMISSION_TIMEOUT' | 'TIMED_OUT' | 'RUN_FAILED';

export interface StartAttemptData {
  at: string;
  net: { id: string; name: string } | null;
  /** STARTED, CLIENTS_OFFLINE, NET_ERROR or REJECTED */
  outcome: string;
  detail: string | null;
}

export interface JobData {
  id: string;
  status: JobStatus;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  backendJobId: string | null;
  queuePosition: number | null;
  priority: JobPriority;
  /** null unless QUEUED */
  pendingReason: PendingReason | null;
  pendingDetail: string | null;
  /** the earliest start (a backoff or the job's own notBefore); null: it may start now */
  notBefore: string | null;
  /** null unless DELETED */
  endReason: EndReason | null;
  startAttempts: StartAttemptData[];
  net: { id: string; name: string } | null;
  model: { id: string; name: string; status: string; project: { id: string; name: string } };
  trusts: Array<{ id: string; name: string; slotName: string | null }>;
}

export interface SchedulerData {
  id: string;
  status: 'AVAILABLE' | 'BUSY';
  net: { id: string; drained: boolean };
  job: { id: string } | null;
}

export interface NetData {
  id: string;
  name: string;
  endpoint: string;
  flBackend: 'NVFLARE' | 'FLOWER';
  simulated: boolean;
  /** takes no new job; its running job finishes */
  drained: boolean;
  scheduler: { id: string; status: 'AVAILABLE' | 'BUSY'; job: { id: string } | null };
}

export interface TrustClientData {
  net: { id: string; name: string };
  online: boolean;
  lastSeen: string | null;
}

export interface TrustData {
  id: string;
  name: string;
  slotName: string | null;
  /** null: no limit */
  maxConcurrentJobs: number | null;
  /** jobs naming it that are IN_PROGRESS now, on any net */
  runningJobs: number;
  onHold: boolean;
  /** when the hold ends by itself; null: until released */
  holdUntil: string | null;
  /** its kit slot's FL client as each net last reported it */
  clients: TrustClientData[];
}

export interface ProjectData {
  id: string;
  name: string;
  /** fair-share weight, at least 1 */
  share: number;
  /** null: no limit */
  maxConcurrentJobs: number | null;
  runningJobs: number;
}

export interface DeploymentData {
  enabled: boolean;
  since: string | null;
  busyNets: number;
}

export interface SnapshotData {
  nets: NetData[];
  jobs: JobData[];
  trusts: TrustData[];
  projects: ProjectData[];
  deploymentStatus: DeploymentData;
}
