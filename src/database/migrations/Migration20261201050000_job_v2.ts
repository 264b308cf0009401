import { Migration } from '@mikro-orm/migrations';

/**
 * Version 2 of the job row.
 *  - One live (QUEUED or IN_PROGRESS) job per model, enforced by a partial
 *    unique index: reports are keyed by model, so a second live job would let
 *    one net's report end another net's run. A database that already holds two
 *    live jobs of one model stops the migration with their ids (nothing is
 *    removed silently: an operator decides which one goes).
 *  - What a researcher asks of a job (`priority`, `not_before`,
 *    `max_runtime_s`) and why a job left without COMPLETED (`end_reason`).
 */
export class Migration20261201050000_job_v2 extends Migration {
  override name = 'Migration20261201050000_job_v2';

  override up(): void {
    this.addSql(`
do $$
declare duplicates text;
begin
  select string_agg(model_id::text || ': ' || jobs, '; ') into duplicates from (
    select model_id, string_agg(id::text, ', ' order by seq) as jobs from job
    where status in ('QUEUED', 'IN_PROGRESS') group by model_id having count(*) > 1) d;
  if duplicates is not null then
    raise exception 'models with more than one live job (remove all but one with removeJob first): %', duplicates;
  end if;
end $$;
create unique index job_one_live_per_model on job (model_id) where status in ('QUEUED', 'IN_PROGRESS');

alter table job add column priority text not null default 'NORMAL'
  constraint job_priority_check check (priority in ('LOW', 'NORMAL', 'HIGH', 'URGENT'));
alter table job add column not_before timestamptz null;
alter table job add column max_runtime_s int null constraint job_max_runtime_s_check check (max_runtime_s >= 0);
alter table job add column end_reason text null constraint job_end_reason_check check (end_reason in
  ('REMOVED', 'STOPPED', 'UNAPPROVED_TRUST', 'START_FAILED', 'ADMISSION_TIMEOUT', 'TIMED_OUT', 'RUN_FAILED'));
alter table job add constraint job_end_reason_deleted_check check (end_reason is null or status = 'DELETED');
`);
  }

  override down(): void {
    this.addSql(`
alter table job drop constraint job_end_reason_deleted_check;
alter table job drop column end_reason;
alter table job drop column max_runtime_s;
alter table job drop column not_before;
alter table job drop column priority;
drop index job_one_live_per_model;
`);
  }
}
