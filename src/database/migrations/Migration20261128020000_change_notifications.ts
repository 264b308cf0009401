import { Migration } from '@mikro-orm/migrations';

/**
 * Every change of a job or a scheduler is announced on the `fl_events`
 * channel (LISTEN/NOTIFY), delivered at commit to every hub instance: it
 * drives event-driven pickup across instances and the live subscriptions,
 * whichever instance (or hand-written SQL) made the change.
 */
export class Migration20261128020000_change_notifications extends Migration {
  override name = 'Migration20261128020000_change_notifications';

  override up(): void {
    this.addSql(`
create function fl_notify_job_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('fl_events', json_build_object(
    'kind', 'job', 'id', new.id, 'status', new.status, 'modelId', new.model_id, 'netId', new.net_id,
    'createdAt', new.created_at, 'startedAt', new.started_at, 'completedAt', new.completed_at,
    'backendJobId', new.backend_job_id, 'attempts', new.attempts)::text);
  return null;
end $$;

create trigger job_changed after insert or update of status, net_id, backend_job_id, started_at, completed_at on job
  for each row execute function fl_notify_job_change();

create function fl_notify_scheduler_change() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status and new.job_id is not distinct from old.job_id then
    return null;
  end if;
  perform pg_notify('fl_events', json_build_object(
    'kind', 'scheduler', 'id', new.id, 'status', new.status, 'netId', new.net_id, 'jobId', new.job_id,
    'leaseUntil', new.lease_until, 'updatedAt', new.updated_at)::text);
  return null;
end $$;

create trigger scheduler_changed after insert or update on scheduler
  for each row execute function fl_notify_scheduler_change();
`);
  }

  override down(): void {
    this.addSql(`
drop trigger if exists scheduler_changed on scheduler;
drop trigger if exists job_changed on job;
drop function if exists fl_notify_scheduler_change();
drop function if exists fl_notify_job_change();
`);
  }
}
