/**
 * Every GraphQL document the console sends, in one place: a Version 2 field
 * (priority, pendingReason, endReason, drained, trust clients and holds) is
 * one more name in a selection below plus a column in the page.
 */
export const JOB_FIELDS = `
  id status createdAt startedAt completedAt backendJobId queuePosition
  net { id name }
  model { id name status project { id name } }
  trusts { id name slotName }`;

export const NET_FIELDS = `id name endpoint flBackend simulated drained scheduler { id status job { id } }`;

/** a drain or resume is announced as a change of the net's scheduler, so `drained` comes with it */
export const SCHEDULER_FIELDS = `id status net { id drained } job { id }`;

export const TRUST_FIELDS = `id name slotName clients { net { id name } online lastSeen }`;

export const DEPLOYMENT_FIELDS = `enabled since busyNets`;

/** The whole picture, taken at sign-in and after every reconnect. */
export const SNAPSHOT = `query ConsoleSnapshot {
  nets { ${NET_FIELDS} }
  jobs { ${JOB_FIELDS} }
  trusts { ${TRUST_FIELDS} }
  deploymentStatus { ${DEPLOYMENT_FIELDS} }
}`;

/** `nets` answers NOT_FOUND when no net is registered; the rest of the picture still loads. */
export const SNAPSHOT_WITHOUT_NETS = `query ConsoleSnapshotWithoutNets {
  jobs { ${JOB_FIELDS} }
  trusts { ${TRUST_FIELDS} }
  deploymentStatus { ${DEPLOYMENT_FIELDS} }
}`;

/** The queue's order after a change: a job leaving or joining moves the others. */
export const QUEUE_POSITIONS = `query ConsoleQueue { jobs(status: QUEUED) { id queuePosition } }`;

export const TRUSTS_AND_DEPLOYMENT = `query ConsoleSlowParts {
  trusts { ${TRUST_FIELDS} }
  deploymentStatus { ${DEPLOYMENT_FIELDS} }
}`;

export const JOB_UPDATED = `subscription ConsoleJobs { jobUpdated { ${JOB_FIELDS} } }`;

export const SCHEDULER_UPDATED = `subscription ConsoleSchedulers { schedulerUpdated { ${SCHEDULER_FIELDS} } }`;

export const STOP_TRAINING = `mutation ConsoleStop($modelId: ID!) { stopTraining(modelId: $modelId) { id status } }`;

export const REMOVE_JOB = `mutation ConsoleRemove($id: ID!) { removeJob(id: $id) { ${JOB_FIELDS} } }`;

export const DRAIN_NET = `mutation ConsoleDrain($netId: ID!) { drainNet(netId: $netId) { id drained } }`;

export const RESUME_NET = `mutation ConsoleResume($netId: ID!) { resumeNet(netId: $netId) { id drained } }`;

export const SET_DEPLOYMENT_MODE = `mutation ConsoleDeployment($enabled: Boolean!) {
  setDeploymentMode(enabled: $enabled) { ${DEPLOYMENT_FIELDS} }
}`;

// ---- the shapes these documents return ----

export type JobStatus = 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED' | 'DELETED';

export interface JobData {
  id: string;
  status: JobStatus;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  backendJobId: string | null;
  queuePosition: number | null;
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
  /** its kit slot's FL client as each net last reported it */
  clients: TrustClientData[];
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
  deploymentStatus: DeploymentData;
}
