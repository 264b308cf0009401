import { connectToHub, GqlError, type HubClient } from './api/client.js';
import * as docs from './api/documents.js';
import type { DeploymentData, JobData, SchedulerData, SnapshotData, TrustData } from './api/documents.js';
import { History } from './state/history.js';
import {
  applyJob,
  applyQueuePositions,
  applyScheduler,
  busyNets,
  EMPTY_STATE,
  fromSnapshot,
  queueLength,
  withDeployment,
  withDrained,
  withTrusts,
  type ConsoleState,
} from './state/store.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

type LiveEvent = { job: JobData } | { scheduler: SchedulerData };

const SAMPLE_EVERY_MS = 5_000;
const SLOW_PARTS_EVERY_MS = 30_000;
const QUEUE_REFRESH_DELAY_MS = 250;
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
  private queueRefresh: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

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
    this.timers.push(setInterval(() => this.sample(), SAMPLE_EVERY_MS));
    this.timers.push(setInterval(() => void this.refreshSlowParts(), SLOW_PARTS_EVERY_MS));
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
    if (this.queueRefresh) clearTimeout(this.queueRefresh);
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

  /** after an action: the parts no subscription carries */
  async refreshSlowParts(): Promise<void> {
    try {
      const { trusts, deploymentStatus } = await this.client.request<{ trusts: TrustData[]; deploymentStatus: DeploymentData }>(
        docs.TRUSTS_AND_DEPLOYMENT,
      );
      this.state = withDeployment(withTrusts(this.state, trusts), deploymentStatus);
      this.notify();
    } catch (error) {
      if (error instanceof GqlError && error.code === 'UNAUTHENTICATED') this.onSignedOut(error.message);
    }
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
    // a job joining or leaving the queue moves the jobs behind it
    if ('job' in event && (event.job.status === 'QUEUED' || before?.status === 'QUEUED')) this.scheduleQueueRefresh();
    this.changed();
  }

  private scheduleQueueRefresh(): void {
    if (this.queueRefresh) return;
    this.queueRefresh = setTimeout(() => {
      this.queueRefresh = null;
      this.client.request<{ jobs: Array<{ id: string; queuePosition: number | null }> }>(docs.QUEUE_POSITIONS).then(
        ({ jobs }) => {
          this.state = applyQueuePositions(this.state, jobs);
          this.notify();
        },
        () => undefined, // the next event or resync tries again
      );
    }, QUEUE_REFRESH_DELAY_MS);
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
  return 'job' in event ? applyJob(state, event.job) : applyScheduler(state, event.scheduler);
}
