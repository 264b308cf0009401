import { Migration } from '@mikro-orm/migrations';

/**
 * `revoked_approval`: each (model, trust) pair whose approval was removed and
 * not given back, kept by the `revoked_approval_kept` trigger on
 * `model_approved_trust` (a removed row adds its pair, an added row takes it
 * out; it fires in every session, replica ones too). A queued job can only
 * name a trust not approved for its model through such a pair (queueTraining
 * refuses unapproved trusts), so the full cycle's retirement of those jobs
 * looks at the jobs of these models instead of every queued job. Filled at
 * once with the pairs live jobs name without approval.
 */
export class Migration20261201105000_revoked_approval extends Migration {
  override name = 'Migration20261201105000_revoked_approval';

  override up(): void {
    this.addSql(`
create table revoked_approval (
  model_id uuid not null,
  trust_id uuid not null,
  revoked_at timestamptz not null default now(),
  constraint revoked_approval_pkey primary key (model_id, trust_id)
);
insert into revoked_approval (model_id, trust_id)
  select distinct j.model_id, jt.trust_id from job j join job_trust jt on jt.job_id = j.id
  where j.status in ('QUEUED', 'IN_PROGRESS')
    and not exists (select 1 from model_approved_trust a where a.model_id = j.model_id and a.trust_id = jt.trust_id);

create function fl_revoked_approval() returns trigger language plpgsql as $$
begin
  if tg_op in ('DELETE', 'UPDATE') then
    insert into revoked_approval (model_id, trust_id) values (old.model_id, old.trust_id) on conflict do nothing;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    delete from revoked_approval where model_id = new.model_id and trust_id = new.trust_id;
  end if;
  return null;
end $$;
create trigger revoked_approval_kept after insert or update or delete on model_approved_trust
  for each row execute function fl_revoked_approval();
alter table model_approved_trust enable always trigger revoked_approval_kept;
`);
  }

  override down(): void {
    this.addSql(`
drop trigger revoked_approval_kept on model_approved_trust;
drop function fl_revoked_approval();
drop table revoked_approval;
`);
  }
}
