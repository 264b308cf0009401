import { Migration } from '@mikro-orm/migrations';

/**
 * Trusts and projects announce their changes on `fl_events`, as jobs and
 * schedulers do (`trustUpdated`, `projectUpdated`, and the dispatch: a limit
 * or hold change may let a waiting job start). A trust is announced with its
 * kit slot and its hold as it stands (a hold whose time has passed is over),
 * so it is announced again when a slot is assigned to it.
 */
export class Migration20261201100000_trust_project_notify extends Migration {
  override name = 'Migration20261201100000_trust_project_notify';

  override up(): void {
    this.addSql(`
create function fl_notify_trust_change() returns trigger language plpgsql as $$
declare
  changed uuid;
begin
  if tg_table_name = 'kit_slot' then
    changed := new.assigned_trust_id;
  else
    changed := new.id;
  end if;
  perform pg_notify('fl_events', json_build_object(
    'kind', 'trust', 'id', t.id, 'name', t.name, 'slotName', k.slot_name, 'maxConcurrentJobs', t.max_concurrent_jobs,
    'onHold', t.on_hold and (t.hold_until is null or t.hold_until > now()),
    'holdUntil', case when t.on_hold and t.hold_until > now() then t.hold_until end)::text)
  from trust t left join kit_slot k on k.assigned_trust_id = t.id where t.id = changed;
  return null;
end $$;

create trigger trust_changed after insert or update of name, max_concurrent_jobs, on_hold, hold_until on trust
  for each row execute function fl_notify_trust_change();
create trigger kit_slot_assigned after update of assigned_trust_id on kit_slot
  for each row when (new.assigned_trust_id is not null) execute function fl_notify_trust_change();

create function fl_notify_project_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('fl_events', json_build_object(
    'kind', 'project', 'id', new.id, 'name', new.name, 'maxConcurrentJobs', new.max_concurrent_jobs, 'share', new.share)::text);
  return null;
end $$;

create trigger project_changed after insert or update of name, max_concurrent_jobs, share on project
  for each row execute function fl_notify_project_change();
`);
  }

  override down(): void {
    this.addSql(`
drop trigger if exists project_changed on project;
drop function if exists fl_notify_project_change();
drop trigger if exists kit_slot_assigned on kit_slot;
drop trigger if exists trust_changed on trust;
drop function if exists fl_notify_trust_change();
`);
  }
}
