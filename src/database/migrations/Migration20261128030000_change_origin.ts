import { Migration } from '@mikro-orm/migrations';

/**
 * The change notifications also name their origin: the `application_name` of
 * the session that made the change (`fl-scheduler/<instance>` for a hub). An
 * instance dispatches its own changes at once and leaves other instances'
 * changes to them for a moment, so that N instances do not all race for
 * every freed net.
 */
export class Migration20261128030000_change_origin extends Migration {
  override name = 'Migration20261128030000_change_origin';

  override up(): void {
    this.addSql(`
create or replace function fl_notify_job_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('fl_events', json_build_object(
    'kind', 'job', 'id', new.id, 'status', new.status, 'modelId', new.model_id, 'netId', new.net_id,
    'createdAt', new.created_at, 'startedAt', new.started_at, 'completedAt', new.completed_at,
    'backendJobId', new.backend_job_id, 'attempts', new.attempts,
    'origin', current_setting('application_name'))::text);
  return null;
end $$;

create or replace function fl_notify_scheduler_change() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status and new.job_id is not distinct from old.job_id then
    return null;
  end if;
  perform pg_notify('fl_events', json_build_object(
    'kind', 'scheduler', 'id', new.id, 'status', new.status, 'netId', new.net_id, 'jobId', new.job_id,
    'leaseUntil', new.lease_until, 'updatedAt', new.updated_at,
    'origin', current_setting('application_name'))::text);
  return null;
end $$;
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

create or replace function fl_notify_scheduler_change() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status and new.job_id is not distinct from old.job_id then
    return null;
  end if;
  perform pg_notify('fl_events', json_build_object(
    'kind', 'scheduler', 'id', new.id, 'status', new.status, 'netId', new.net_id, 'jobId', new.job_id,
    'leaseUntil', new.lease_until, 'updatedAt', new.updated_at)::text);
  return null;
end $$;
`);
  }
}
