import { sql, type RawBuilder } from 'kysely';
import { literal } from './fragments.js';
import { JobStatus, SchedulerStatus, StartPhase } from './states.js';

const { QUEUED, IN_PROGRESS, COMPLETED, DELETED } = JobStatus;

/** Where a job is: its status, and for an IN_PROGRESS job how far its start got. NEW: not yet inserted. */
export const JobState = {
  NEW: 'NEW',
  QUEUED,
  CLAIMED: `${IN_PROGRESS}:${StartPhase.CLAIMED}`,
  SUBMITTING: `${IN_PROGRESS}:${StartPhase.SUBMITTING}`,
  RUNNING: `${IN_PROGRESS}:${StartPhase.RUNNING}`,
  COMPLETED,
  DELETED,
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

/** Where a net's scheduler row is: free, claimed alone (a lease, no job), holding a job, or held for a sweep. */
export const NetState = {
  AVAILABLE: SchedulerStatus.AVAILABLE,
  CLAIMED: `${SchedulerStatus.BUSY}:CLAIMED`,
  HELD: `${SchedulerStatus.BUSY}:HELD`,
  SWEEP: `${SchedulerStatus.BUSY}:SWEEP`,
} as const;
export type NetState = (typeof NetState)[keyof typeof NetState];

const J = JobState;
const N = NetState;

/**
 * The job's lifecycle as data: every move a statement may make a job row
 * take. A move to itself is a statement that changes the row but not its
 * state (the run id recorded, a lease renewed).
 */
export const JOB_MOVES: Readonly<Record<JobState, readonly JobState[]>> = {
  [J.NEW]: [J.QUEUED],
  // reprioritised or its wait for offline clients noted; claimed; removed; taken back by a late confirmation of a start that recovery had requeued
  [J.QUEUED]: [J.QUEUED, J.CLAIMED, J.DELETED, J.RUNNING],
  [J.CLAIMED]: [J.SUBMITTING, J.QUEUED, J.COMPLETED, J.DELETED],
  [J.SUBMITTING]: [J.SUBMITTING, J.RUNNING, J.QUEUED, J.COMPLETED, J.DELETED],
  [J.RUNNING]: [J.RUNNING, J.COMPLETED, J.DELETED],
  // a completion that overtook its start: the start still records its run on the ended job
  [J.COMPLETED]: [J.COMPLETED, J.DELETED],
  // nothing leaves DELETED; a write that changes nothing of its state may still touch it
  [J.DELETED]: [J.DELETED],
};

/** The scheduler rows' moves, likewise. */
export const NET_MOVES: Readonly<Record<NetState, readonly NetState[]>> = {
  [N.AVAILABLE]: [N.CLAIMED, N.HELD, N.AVAILABLE],
  [N.CLAIMED]: [N.HELD, N.AVAILABLE],
  [N.HELD]: [N.HELD, N.AVAILABLE, N.SWEEP],
  [N.SWEEP]: [N.SWEEP, N.AVAILABLE, N.HELD],
};

/** What one lifecycle statement does to the rows it moves; it declares this next to its SQL. */
export interface StatementMoves {
  job?: ReadonlyArray<readonly [JobState, JobState]>;
  net?: ReadonlyArray<readonly [NetState, NetState]>;
}

export interface LifecycleStatement extends StatementMoves {
  readonly name: string;
  /** ends the statement's SQL: names it in pg_stat_activity and the server's logs (and to the test that checks the moves) */
  readonly tag: RawBuilder<unknown>;
}

/** Declares a statement of the lifecycle: its name and its moves. */
export function lifecycleStatement(name: string, moves: StatementMoves): LifecycleStatement {
  return { name, ...moves, tag: sql.raw(`/* lifecycle:${name} */`) };
}

/** SQL computing a job row's JobState (alias: the row). */
export function jobStateSql(alias: string): string {
  return `case when ${alias}.status = ${literal(IN_PROGRESS)} then ${alias}.status || ':' || ${alias}.start_phase else ${alias}.status end`;
}

/** SQL computing a scheduler row's NetState (alias: the row). */
export function netStateSql(alias: string): string {
  return `case when ${alias}.status = ${literal(SchedulerStatus.AVAILABLE)} then ${literal(N.AVAILABLE)}
               when ${alias}.job_id is not null then ${literal(N.HELD)}
               when ${alias}.sweep_pending then ${literal(N.SWEEP)}
               else ${literal(N.CLAIMED)} end`;
}

const statusOf = (state: JobState): JobStatus | null => (state === J.NEW ? null : (state.split(':')[0] as JobStatus));

/** The table seen by status alone: may a job of status `from` get status `to`? */
export function canJobMove(from: JobStatus, to: JobStatus): boolean {
  return (Object.entries(JOB_MOVES) as Array<[JobState, readonly JobState[]]>).some(
    ([a, targets]) => statusOf(a) === from && targets.some((b) => statusOf(b) === to && to !== from),
  );
}

/** Statuses from which a job may still be removed. */
export const REMOVABLE_JOB_STATUSES: readonly JobStatus[] = Object.values(JobStatus).filter((s) => canJobMove(s, DELETED));

/** Jobs that still hold or wait for a net. */
export const LIVE_JOB_STATUSES: readonly JobStatus[] = [QUEUED, IN_PROGRESS];
