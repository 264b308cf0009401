import { Migration } from '@mikro-orm/migrations';

/**
 * A job's change notification carries what a researcher asked of it
 * (`priority`, `maxRuntimeS`), its earliest start (`notBefore`: the start
 * time of a QUEUED job that has not come yet, as `Job.notBefore` reads) and
 * `endReason`, so that `jobUpdated` answers those fields and the pickup wakes
 * at the start time; a change of priority is announced too.
 */
export class Migration20261201070000_job_limits extends Migration {
  override name = 'Migration20261201070000_job_limits';

  override up(): void {
    this.addSql(`
create or replace function fl_notify_job_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('fl_events', json_build_object(
    'kind', 'job', 'id', new.id, 'status', new.status, 'modelId', new.model_id, 'netId', new.net_id,
    'createdAt', new.created_at, 'startedAt', new.started_at, 'completedAt', new.completed_at,
    'backendJobId', new.backend_job_id, 'attempts', new.attempts,
    'priority', new.priority, 'maxRuntimeS', new.max_runtime_s, 'endReason', new.end_reason,
    'notBefore', case when new.status = 'QUEUED' and new.not_before > now() then new.not_before end)::text);
  return null;
end $$;

drop trigger job_changed on job;
create trigger job_changed after insert or update of status, net_id, backend_job_id, started_at, completed_at, priority, not_before
  on job for each row execute function fl_notify_job_change();
`);
  }

  override down(): void {
    this.addSql(`
create or replace function fl_notify_job_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('fl_events', json_build_object(
    'kind', 'job', 'id', new.id, 'status', new.status, 'modelId', new.model_id, 'netId', new.net_id,
    'createdAt', new.created_at, 'startedAt', new.started_at, 'completedAt', new.completed_at,
    'backendJobId', new.backend_job_id, 'attempts', new.attempts)::text);
  return null;
end $$;

drop trigger job_changed on job;
create trigger job_changed after insert or update of status, net_id, backend_job_id, started_at, completed_at on job
  for each row execute function fl_notify_job_change();
`);
  }
}
