import { sql, type RawBuilder } from 'kysely';
import { ModelStatus } from '../../models/model-status.js';
import { EndReason, JobStatus, SchedulerStatus, StartOutcome, StartPhase } from './states.js';

/** `'VALUE'`: a status as SQL text (the values are the enums' own, never user input). */
export const literal = (value: string): string => `'${value}'`;

type Literals<E extends Record<string, string>> = { readonly [K in keyof E]: RawBuilder<unknown> };

function literals<E extends Record<string, string>>(values: E): Literals<E> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, sql.raw(literal(value))])) as Literals<E>;
}

/** Job statuses, to interpolate into SQL: `j.status = ${JOB.QUEUED}`. */
export const JOB = literals(JobStatus);
/** Start phases, to interpolate into SQL. */
export const PHASE = literals(StartPhase);
/** Scheduler statuses, to interpolate into SQL. */
export const NET = literals(SchedulerStatus);
/** Model statuses the lifecycle's statements set or test. */
export const MODEL = literals(ModelStatus);
/** End reasons, to interpolate into SQL. */
export const END = literals(EndReason);
/** Start attempts' outcomes, to interpolate into SQL. */
export const OUTCOME = literals(StartOutcome);

/** A list of statuses for `in`, as text: `(\'A\', \'B\')`. */
export const oneOfText = (values: readonly string[]): string => `(${values.map(literal).join(', ')})`;

/** A list of statuses for `in`: `status in ${oneOf([...])}`. */
export const oneOf = (values: readonly string[]) => sql.raw(oneOfText(values));

const PICKUP_PAUSED_TEXT = `coalesce((select (value->>'enabled')::boolean from hub_setting where key = 'deployment_mode'), false)`;

/** True while the deployment mode (pickup paused) is on. */
export const PICKUP_PAUSED = sql.raw(PICKUP_PAUSED_TEXT);

const NOT_DRAINED_TEXT = `not exists (select 1 from net dn where dn.id = scheduler.net_id and (dn.drained or dn.failed_calls > 0))`;

/**
 * True for an (unaliased) `scheduler` whose net may take a new job: not
 * drained, and no failed call waiting for its probe (the admission's
 * NET_TAKES_JOBS, for an unaliased scheduler).
 */
export const NOT_DRAINED = sql.raw(NOT_DRAINED_TEXT);

const UNAPPROVED_TRUST_TEXT = `exists (select 1 from job_trust jt where jt.job_id = j.id and not exists (
  select 1 from model_approved_trust a where a.model_id = j.model_id and a.trust_id = jt.trust_id))`;

/** True for a job `j` naming a trust that is not (or no longer) approved for its model. */
export const UNAPPROVED_TRUST = sql.raw(UNAPPROVED_TRUST_TEXT);

/** The same conditions as plain text, for the statements asked over a bare `pg` connection (the dispatch's questions). */
export const FRAGMENT_TEXT = {
  PICKUP_PAUSED: PICKUP_PAUSED_TEXT,
  NOT_DRAINED: NOT_DRAINED_TEXT,
  UNAPPROVED_TRUST: UNAPPROVED_TRUST_TEXT,
} as const;

export const leaseInterval = (ms: number) => sql`(${ms} * interval '1 millisecond')`;
