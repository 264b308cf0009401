import { connectToHub, GqlError, type HubClient } from './api/client.js';
import * as docs from './api/documents.js';
import type { DeploymentData, JobData, ProjectData, SchedulerData, SnapshotData, TrustData } from './api/documents.js';
import { History } from './state/history.js';
import {
  applyJob,
  applyQueue,
  applyScheduler,
  busyNets,
  EMPTY_STATE,
  fromSnapshot,
  queueLength,
  withDeployment,
  withDrained,
  withProject,
  withProjects,
  withTrust,
  withTrusts,
  type ConsoleState,
} from './state/store.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

type LiveEvent = { job: JobData } | { scheduler: SchedulerData } | { trust: TrustData } | { project: ProjectData };

const SAMPLE_EVERY_MS = 5_000;
/** reasons that change with time alone (a notBefore or a hold's end passing), and a check on the counts */
const SLOW_PARTS_EVERY_MS = 30_000;
const REFRESH_DELAY_MS = 250;
/** the hub does not confirm a subscription, so a second snapshot shortly after connecting covers its start */
const SETTLE_SNAPSHOT_MS = 2_000;

/**
 * The page's live picture: a snapshot, then the jobUpdated and
 * schedulerUpdated subscriptions patch it. Events that arrive while a
 * snapshot is in flight are replayed on top of it (they come in commit
 * order, so the last word wins); every reconnect takes a fresh snapshot.
 */
export class LiveConsole {
  state: ConsoleState = EMPTY_STATE;
  connection: Connection = 'connecting';
  loaded = false;
  readonly history = new History();

  private readonly client: HubClient;
  private readonly listeners = new Set<() => void>();
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private buffered: LiveEvent[] | null = null;
  private snapshots = 0;
  private closed = false;
  /** a burst of events is one read of the queue, and one of the trusts and projects */
  private readonly queueRefresh = new Debounced(REFRESH_DELAY_MS, () => this.refreshQueue());
  private readonly slowRefresh = new Debounced(REFRESH_DELAY_MS, () => this.refreshSlowParts());

  constructor(
    token: string,
    private readonly onSignedOut: (reason: string) => void,
    private readonly onError: (error: GqlError) => void,
  ) {
    this.client = connectToHub(token, {
      connected: (again) => {
        this.setConnection('live');
        void this.resync();
        setTimeout(() => void this.resync(), SETTLE_SNAPSHOT_MS);
        if (again) this.notify();
      },
      closed: () => this.setConnection('reconnecting'),
    });
    this.client.subscribe<{ jobUpdated: JobData }>(docs.JOB_UPDATED, (d) => this.receive({ job: d.jobUpdated }), onError);
    this.client.subscribe<{ schedulerUpdated: SchedulerData }>(
      docs.SCHEDULER_UPDATED,
      (d) => this.receive({ scheduler: d.schedulerUpdated }),
      onError,
    );
    this.client.subscribe<{ trustUpdated: TrustData }>(
      docs.TRUST_UPDATED,
      (d) => this.receive({ trust: d.trustUpdated }),
      onError,
    );
    this.client.subscribe<{ projectUpdated: ProjectData }>(
      docs.PROJECT_UPDATED,
      (d) => this.receive({ project: d.projectUpdated }),
      onError,
    );
    this.timers.push(setInterval(() => this.sample(), SAMPLE_EVERY_MS));
    this.timers.push(
      setInterval(() => {
        this.slowRefresh.schedule();
        this.queueRefresh.schedule();
      }, SLOW_PARTS_EVERY_MS),
    );
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    return this.client.request<T>(query, variables);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.queueRefresh.cancel();
    this.slowRefresh.cancel();
    this.client.close();
  }

  /** takes a fresh snapshot; events heard meanwhile are replayed on top */
  async resync(): Promise<void> {
    this.snapshots += 1;
    this.buffered ??= [];
    try {
      const snapshot = await this.takeSnapshot();
      if (this.closed) return;
      let state = fromSnapshot(snapshot);
      for (const event of this.buffered ?? []) state = apply(state, event);
      this.state = state;
      this.loaded = true;
    } catch (error) {
      const problem = error instanceof GqlError ? error : new GqlError(String(error), 'ERROR');
      if (problem.code === 'UNAUTHENTICATED') return this.onSignedOut(problem.message);
      this.onError(problem);
    } finally {
      this.snapshots -= 1;
      if (this.snapshots === 0) this.buffered = null;
    }
    this.changed();
  }

  /** trusts, projects and the deployment mode: their running counts change with every start and end */
  async refreshSlowParts(): Promise<void> {
    try {
      const { trusts, projects, deploymentStatus } = await this.client.request<{
        trusts: TrustData[];
        projects: ProjectData[];
        deploymentStatus: DeploymentData;
      }>(docs.SLOW_PARTS);
      if (this.closed) return;
      this.state = withDeployment(withProjects(withTrusts(this.state, trusts), projects), deploymentStatus);
      this.notify();
    } catch (error) {
      this.failedRead(error);
    }
  }

  /** the queue whole: positions and reasons move whenever any job, net, hold or limit changes */
  async refreshQueue(): Promise<void> {
    try {
      const { jobs } = await this.client.request<{ jobs: JobData[] }>(docs.QUEUE);
      if (this.closed) return;
      this.state = applyQueue(this.state, jobs);
      this.notify();
    } catch (error) {
      this.failedRead(error); // else the next event or tick tries again
    }
  }

  /** an action's answer, before (or without) its event */
  setJob(job: JobData): void {
    this.state = applyJob(this.state, job);
    this.queueRefresh.schedule();
    this.notify();
  }

  setTrust(trust: TrustData): void {
    this.state = withTrust(this.state, trust);
    this.queueRefresh.schedule();
    this.notify();
  }

  setProject(project: ProjectData): void {
    this.state = withProject(this.state, project);
    this.queueRefresh.schedule();
    this.notify();
  }

  setDrained(netId: string, drained: boolean): void {
    this.state = withDrained(this.state, netId, drained);
    this.notify();
  }

  setDeployment(deployment: DeploymentData): void {
    this.state = withDeployment(this.state, deployment);
    this.notify();
  }

  private async takeSnapshot(): Promise<Partial<SnapshotData> & Omit<SnapshotData, 'nets'>> {
    try {
      return await this.client.request<SnapshotData>(docs.SNAPSHOT);
    } catch (error) {
      if (!(error instanceof GqlError) || error.code !== 'NOT_FOUND') throw error;
      return this.client.request<Omit<SnapshotData, 'nets'>>(docs.SNAPSHOT_WITHOUT_NETS);
    }
  }

  private receive(event: LiveEvent): void {
    if (this.buffered) this.buffered.push(event);
    const before = 'job' in event ? this.state.jobs.get(event.job.id) : undefined;
    this.state = apply(this.state, event);
    // any change may move the queue or change why its jobs wait: the hub ranks it, the page re-reads it
    this.queueRefresh.schedule();
    // a start or an end changes its trusts' and project's running counts
    if ('job' in event && event.job.status !== before?.status) this.slowRefresh.schedule();
    this.changed();
  }

  private failedRead(error: unknown): void {
    if (error instanceof GqlError && error.code === 'UNAUTHENTICATED') this.onSignedOut(error.message);
  }

  private setConnection(connection: Connection): void {
    this.connection = connection;
    this.notify();
  }

  /** a change: one more point on the charts */
  private changed(): void {
    this.sample();
  }

  private sample(): void {
    if (this.loaded) this.history.add({ at: Date.now(), busyNets: busyNets(this.state), queueLength: queueLength(this.state) });
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

function apply(state: ConsoleState, event: LiveEvent): ConsoleState {
  if ('job' in event) return applyJob(state, event.job);
  if ('scheduler' in event) return applyScheduler(state, event.scheduler);
  if ('trust' in event) return withTrust(state, event.trust);
  return withProject(state, event.project);
}

/** Runs `run` once `delayMs` after the first call of a burst; a call while it runs runs it once more after. */
class Debounced {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private again = false;

  constructor(
    private readonly delayMs: number,
    private readonly run: () => Promise<void>,
  ) {}

  schedule(): void {
    if (this.running) this.again = true;
    else this.timer ??= setTimeout(() => void this.fire(), this.delayMs);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.again = false;
  }

  private async fire(): Promise<void> {
    this.timer = null;
    this.running = true;
    try {
      await this.run();
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }
}
