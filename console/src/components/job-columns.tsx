import type { ComponentChild } from 'preact';
import type { JobData } from '../api/documents.js';
import type { Permissions } from '../auth.js';
import { clock, since } from '../format.js';

export interface RowContext {
  now: number;
  permissions: Permissions;
  stop(job: JobData): void;
  remove(job: JobData): void;
}

/** One column of a job table: a Version 2 field (priority, pendingReason, endReason…) is one more entry. */
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

export const QUEUE_COLUMNS: JobColumn[] = [position, model, project, trusts, state, net, queuedAt, waiting, actions];
export const RUNNING_COLUMNS: JobColumn[] = [model, project, trusts, state, net, startedAt, elapsed, actions];
export const ENDED_COLUMNS: JobColumn[] = [model, project, state, net, endedAt, modelStatus];
