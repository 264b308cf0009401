import type { ComponentChild } from 'preact';
import { JOB_PRIORITIES, type JobData, type JobPriority } from '../api/documents.js';
import type { Permissions } from '../auth.js';
import { clock, END_WORDS, inWords, OUTCOME_WORDS, PENDING_WORDS, PRIORITY_WORDS, since } from '../format.js';

export interface RowContext {
  now: number;
  permissions: Permissions;
  stop(job: JobData): void;
  remove(job: JobData): void;
  setPriority(job: JobData, priority: JobPriority): void;
}

/** One column of a job table: a field of the job is one more entry. */
export interface JobColumn {
  key: string;
  title: string;
  render(job: JobData, ctx: RowContext): ComponentChild;
}

const col = (key: string, title: string, render: JobColumn['render']): JobColumn => ({ key, title, render });

export const position = col('position', '#', (job) => job.queuePosition ?? '—');
export const model = col('model', 'Model', (job) => (
  <span title={`model ${job.model.id}, ${job.model.status}`}>{job.model.name}</span>
));
export const project = col('project', 'Project', (job) => job.model.project.name);
export const trusts = col('trusts', 'Trusts', (job) => job.trusts.map((t) => t.name).join(', '));
export const state = col('status', 'State', (job) => <span class={`badge job-${job.status}`}>{job.status}</span>);
export const net = col('net', 'Net', (job) => job.net?.name ?? '—');
export const queuedAt = col('queued', 'Queued', (job) => clock(job.createdAt));
export const waiting = col('waiting', 'Waiting', (job, ctx) => since(job.createdAt, ctx.now));
export const startedAt = col('started', 'Started', (job) => clock(job.startedAt));
export const elapsed = col('elapsed', 'Running for', (job, ctx) => since(job.startedAt, ctx.now));
export const endedAt = col('ended', 'Ended', (job) => clock(job.completedAt));
export const modelStatus = col('modelStatus', 'Model status', (job) => job.model.status);

/** a queued job's priority: a choice for a token that may reprioritise, else words */
export const priority = col('priority', 'Priority', (job, ctx) => {
  if (job.status !== 'QUEUED' || !ctx.permissions.controlJobs) {
    return <span data-priority={job.priority}>{inWords(PRIORITY_WORDS, job.priority)}</span>;
  }
  return (
    <select
      data-action="priority"
      data-priority={job.priority}
      aria-label={`priority of ${job.model.name}`}
      value={job.priority}
      onChange={(event) => ctx.setPriority(job, event.currentTarget.value as JobPriority)}
    >
      {JOB_PRIORITIES.map((p) => (
        <option key={p} value={p}>
          {inWords(PRIORITY_WORDS, p)}
        </option>
      ))}
    </select>
  );
});

/** why it waits, in words, with the trusts, nets or times behind it beneath */
export const pendingReason = col('reason', 'Waits because', (job) => (
  <span data-reason={job.pendingReason ?? ''} title={job.pendingDetail ?? undefined}>
    <span class="reason">{inWords(PENDING_WORDS, job.pendingReason)}</span>
    {job.pendingDetail && <small class="detail">{job.pendingDetail}</small>}
  </span>
));

export const notBefore = col('notBefore', 'Not before', (job) => clock(job.notBefore));

/** how it ended, in words */
export const endReason = col('endReason', 'Ended because', (job) => (
  <span data-end-reason={job.endReason ?? ''}>
    {job.status === 'COMPLETED' ? 'completed' : inWords(END_WORDS, job.endReason)}
  </span>
));

/** every try to start the job, opened from its row */
export const startAttempts = col('attempts', 'Start attempts', (job) => {
  const attempts = job.startAttempts;
  if (attempts.length === 0) return 'none yet';
  const last = attempts.at(-1);
  return (
    <details data-attempts={attempts.length}>
      <summary>
        {attempts.length} · last {inWords(OUTCOME_WORDS, last?.outcome ?? null)}
      </summary>
      <ol class="attempts">
        {attempts.map((attempt, i) => (
          <li key={i} data-outcome={attempt.outcome}>
            {clock(attempt.at)} on {attempt.net?.name ?? 'no net'}: <strong>{inWords(OUTCOME_WORDS, attempt.outcome)}</strong>
            {attempt.detail && <small class="detail">{attempt.detail}</small>}
          </li>
        ))}
      </ol>
    </details>
  );
});

/** the actions the token may take on this job, and only those */
export const actions = col('actions', '', (job, ctx) => {
  if (!ctx.permissions.controlJobs) return null;
  if (job.status === 'IN_PROGRESS') {
    return (
      <button type="button" class="danger" data-action="stop" onClick={() => ctx.stop(job)}>
        Stop
      </button>
    );
  }
  if (job.status === 'QUEUED') {
    return (
      <button type="button" class="danger" data-action="remove" onClick={() => ctx.remove(job)}>
        Remove
      </button>
    );
  }
  return null;
});

export const QUEUE_COLUMNS: JobColumn[] = [
  position,
  model,
  project,
  priority,
  pendingReason,
  notBefore,
  trusts,
  state,
  net,
  waiting,
  startAttempts,
  actions,
];
export const RUNNING_COLUMNS: JobColumn[] = [
  model,
  project,
  priority,
  trusts,
  state,
  net,
  startedAt,
  elapsed,
  startAttempts,
  actions,
];
export const ENDED_COLUMNS: JobColumn[] = [model, project, state, endReason, net, endedAt, modelStatus, startAttempts];
