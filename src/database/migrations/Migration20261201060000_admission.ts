import { Migration } from '@mikro-orm/migrations';

const JOB_NOTIFY = (withEndReason: boolean) => `
create or replace function fl_notify_job_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('fl_events', json_build_object(
    'kind', 'job', 'id', new.id, 'status', new.status, 'modelId', new.model_id, 'netId', new.net_id,
    'createdAt', new.created_at, 'startedAt', new.started_at, 'completedAt', new.completed_at,
    'backendJobId', new.backend_job_id, 'attempts', new.attempts${withEndReason ? `, 'endReason', new.end_reason` : ''})::text);
  return null;
end $$;`;

/**
 * Admission (SPEC.md "Version 2"): jobs wait instead of dying.
 *  - `start_attempt`: every try to start a job (outcome STARTED,
 *    CLIENTS_OFFLINE, NET_ERROR or REJECTED), written in the same statement as
 *    the state change it records; at most one per claim (`claim_token`), so a
 *    retried write or a recovery after a lost instance never counts one twice.
 *  - `job.retry_at` (the job is not claimed before it), `job.backoffs` (the
 *    waits so far: the backoff doubles with each), `job.failed_starts` (against
 *    MAX_START_ATTEMPTS), `job.offline_since` (since when it waits for offline
 *    clients: ADMISSION_MAX_WAIT_MS).
 *  - `net.failed_calls` / `net.retry_at`: a net whose call failed takes no job
 *    until a probe of check_server_status, due at `retry_at`, answers.
 *  - job change notifications carry `endReason`, and fire when it changes.
 */
export class Migration20261201060000_admission extends Migration {
  override name = 'Migration20261201060000_admission';

  override up(): void {
    this.addSql(`
create table start_attempt (
  id uuid not null default gen_random_uuid() primary key,
  seq bigint generated always as identity constraint start_attempt_seq_unique unique,
  job_id uuid not null constraint start_attempt_job_id_fkey references job (id) on delete cascade,
  net_id uuid null constraint start_attempt_net_id_fkey references net (id) on delete set null,
  claim_token uuid null,
  at timestamptz not null default clock_timestamp(),
  outcome text not null constraint start_attempt_outcome_check check (outcome in ('STARTED', 'CLIENTS_OFFLINE', 'NET_ERROR', 'REJECTED')),
  detail text null
);
create index start_attempt_job_idx on start_attempt (job_id, seq);
create unique index start_attempt_one_per_claim on start_attempt (claim_token) where claim_token is not null;

alter table job add column retry_at timestamptz null;
alter table job add column backoffs int not null default 0 constraint job_backoffs_check check (backoffs >= 0);
alter table job add column failed_starts int not null default 0 constraint job_failed_starts_check check (failed_starts >= 0);
alter table job add column offline_since timestamptz null;
create index job_retry_at_idx on job (retry_at) where status = 'QUEUED' and retry_at is not null;

alter table net add column failed_calls int not null default 0 constraint net_failed_calls_check check (failed_calls >= 0);
alter table net add column retry_at timestamptz null;

drop trigger job_changed on job;
${JOB_NOTIFY(true)}
create trigger job_changed after insert or update of status, net_id, backend_job_id, started_at, completed_at, end_reason on job
  for each row execute function fl_notify_job_change();
`);
  }

  override down(): void {
    this.addSql(`
drop trigger job_changed on job;
${JOB_NOTIFY(false)}
create trigger job_changed after insert or update of status, net_id, backend_job_id, started_at, completed_at on job
  for each row execute function fl_notify_job_change();
alter table net drop column retry_at;
alter table net drop column failed_calls;
drop index job_retry_at_idx;
alter table job drop column offline_since;
alter table job drop column failed_starts;
alter table job drop column backoffs;
alter table job drop column retry_at;
drop table start_attempt;
`);
  }
}
