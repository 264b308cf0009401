import { Migration } from '@mikro-orm/migrations';

const notify = (notBefore: string) => `
create or replace function fl_notify_job_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('fl_events', json_build_object(
    'kind', 'job', 'id', new.id, 'status', new.status, 'modelId', new.model_id, 'netId', new.net_id,
    'createdAt', new.created_at, 'startedAt', new.started_at, 'completedAt', new.completed_at,
    'backendJobId', new.backend_job_id, 'attempts', new.attempts,
    'priority', new.priority, 'maxRuntimeS', new.max_runtime_s, 'endReason', new.end_reason,
    'notBefore', case when new.status = 'QUEUED' and ${notBefore} > now() then ${notBefore} end)::text);
  return null;
end $$;`;

/**
 * A job's change notification says when it may start after the admission's
 * backoff too (`notBefore`: the later of its start time and `retry_at`, as
 * `Job.notBefore` reads), and fires when its end reason or backoff changes.
 */
export class Migration20261201080000_admission_notify extends Migration {
  override name = 'Migration20261201080000_admission_notify';

  override up(): void {
    this.addSql(`
${notify('greatest(new.not_before, new.retry_at)')}
drop trigger job_changed on job;
create trigger job_changed after insert or update of status, net_id, backend_job_id, started_at, completed_at, priority, not_before,
  end_reason, retry_at on job for each row execute function fl_notify_job_change();
`);
  }

  override down(): void {
    this.addSql(`
${notify('new.not_before')}
drop trigger job_changed on job;
create trigger job_changed after insert or update of status, net_id, backend_job_id, started_at, completed_at, priority, not_before
  on job for each row execute function fl_notify_job_change();
`);
  }
}
