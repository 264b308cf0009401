import { Migration } from '@mikro-orm/migrations';

/**
 * Order and capacity (SPEC.md "Version 2": Order, Limits):
 *  - `trust.max_concurrent_jobs` (null: no limit), `trust.on_hold` /
 *    `trust.hold_until` (a hold that ends by itself; null: until released);
 *  - `project.max_concurrent_jobs` (null: no limit), `project.share` (the
 *    fair-share weight, at least 1);
 *  - `job.project_id`: the model's project, kept on the job (set by the
 *    `job_project` trigger on every insert, whatever the statement or the
 *    session), so that
 *    the claim finds each project's queue head by index
 *    (`job_project_queue_idx`) instead of walking every model.
 */
export class Migration20261201090000_order extends Migration {
  override name = 'Migration20261201090000_order';

  override up(): void {
    this.addSql(`
alter table trust add column max_concurrent_jobs int null constraint trust_max_concurrent_jobs_check check (max_concurrent_jobs >= 0);
alter table trust add column on_hold boolean not null default false;
alter table trust add column hold_until timestamptz null;

alter table project add column max_concurrent_jobs int null constraint project_max_concurrent_jobs_check check (max_concurrent_jobs >= 0);
alter table project add column share int not null default 1 constraint project_share_check check (share >= 1);

alter table job add column project_id uuid null;
update job j set project_id = m.project_id from model m where m.id = j.model_id;
alter table job alter column project_id set not null;
alter table job add constraint job_project_id_fkey foreign key (project_id) references project (id) on update cascade;
create index job_project_queue_idx on job (project_id, priority, seq) where status = 'QUEUED';

create function fl_job_project() returns trigger language plpgsql as $$
begin
  -- a bulk load that writes jobs before their models (replica session, no foreign keys) gives the project itself
  new.project_id := coalesce((select m.project_id from model m where m.id = new.model_id), new.project_id);
  return new;
end $$;
create trigger job_project before insert on job for each row execute function fl_job_project();
-- in every session, replica ones too (bulk loads): a job never lacks its project
alter table job enable always trigger job_project;
`);
  }

  override down(): void {
    this.addSql(`
drop trigger job_project on job;
drop function fl_job_project();
drop index job_project_queue_idx;
alter table job drop constraint job_project_id_fkey;
alter table job drop column project_id;
alter table project drop column share;
alter table project drop column max_concurrent_jobs;
alter table trust drop column hold_until;
alter table trust drop column on_hold;
alter table trust drop column max_concurrent_jobs;
`);
  }
}
