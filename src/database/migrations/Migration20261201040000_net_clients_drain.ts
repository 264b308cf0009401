import { Migration } from '@mikro-orm/migrations';

/**
 * What the hub knows of each net's FL clients (from its `check_client_status`
 * answers), and drained nets. A change of `net.drained` is announced like a
 * scheduler change (with `drained`), so a resumed net wakes the dispatch on
 * whichever instance leads it, and a drained one stops counting as free.
 */
export class Migration20261201040000_net_clients_drain extends Migration {
  override name = 'Migration20261201040000_net_clients_drain';

  override up(): void {
    this.addSql(`
alter table net add column drained boolean not null default false;
alter table net add column clients_polled_at timestamptz null;

create table net_client (
  net_id uuid not null references net (id) on delete cascade,
  client_name text not null,
  online boolean not null,
  last_seen timestamptz null,
  checked_at timestamptz not null default now(),
  primary key (net_id, client_name)
);
create index net_client_name_idx on net_client (client_name);

create or replace function fl_notify_scheduler_change() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status and new.job_id is not distinct from old.job_id then
    return null;
  end if;
  perform pg_notify('fl_events', json_build_object(
    'kind', 'scheduler', 'id', new.id, 'status', new.status, 'netId', new.net_id, 'jobId', new.job_id,
    'leaseUntil', new.lease_until, 'updatedAt', new.updated_at,
    'drained', coalesce((select drained from net where id = new.net_id), false))::text);
  return null;
end $$;

create function fl_notify_net_drain_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('fl_events', json_build_object(
    'kind', 'scheduler', 'id', s.id, 'status', s.status, 'netId', s.net_id, 'jobId', s.job_id,
    'leaseUntil', s.lease_until, 'updatedAt', s.updated_at, 'drained', new.drained)::text)
  from scheduler s where s.net_id = new.id;
  return null;
end $$;

create trigger net_drain_changed after update of drained on net
  for each row when (old.drained is distinct from new.drained) execute function fl_notify_net_drain_change();
`);
  }

  override down(): void {
    this.addSql(`
drop trigger if exists net_drain_changed on net;
drop function if exists fl_notify_net_drain_change();
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
drop table if exists net_client;
alter table net drop column clients_polled_at;
alter table net drop column drained;
`);
  }
}
