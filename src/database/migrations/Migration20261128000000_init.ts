import { Migration } from '@mikro-orm/migrations';

/**
 * The initial schema. The scheduling invariants live here as constraints so
 * that no code path (or hand-written SQL) can break them:
 *  - an AVAILABLE scheduler holds no job and no lease;
 *  - a BUSY scheduler holds a job or a claim lease;
 *  - a scheduler's job runs on that scheduler's net (composite foreign key);
 *  - at most one IN_PROGRESS job per net; one scheduler per net;
 *  - a kit slot is bound to at most one trust.
 */
export class Migration20261128000000_init extends Migration {
  override name = 'Migration20261128000000_init';

  override up(): void {
    this.addSql(`
create table net (
  id uuid primary key default gen_random_uuid(),
  name varchar(200) not null constraint net_name_unique unique,
  endpoint varchar(2048) not null constraint net_endpoint_unique unique,
  fl_backend text not null constraint net_fl_backend_check check (fl_backend in ('nvflare', 'flower')),
  created_at timestamptz not null default now()
);

create table project (
  id uuid primary key default gen_random_uuid(),
  name varchar(200) not null,
  created_at timestamptz not null default now()
);

create table model (
  id uuid primary key default gen_random_uuid(),
  name varchar(200) not null,
  project_id uuid not null references project (id),
  status text not null default 'PENDING' constraint model_status_check check (status in
    ('PENDING', 'INITIATED', 'PREPARED', 'RUNNING', 'RESULTS_UPLOADED', 'RESULTS_UPLOAD_FAILED', 'STOPPED', 'ERROR')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index model_project_idx on model (project_id);

create table trust (
  id uuid primary key default gen_random_uuid(),
  name varchar(200) not null constraint trust_name_unique unique,
  created_at timestamptz not null default now()
);

create table kit_slot (
  slot_name varchar(200) primary key,
  slot_number int not null constraint kit_slot_number_unique unique,
  assigned_trust_id uuid null constraint kit_slot_trust_unique unique references trust (id),
  assigned_at timestamptz null,
  constraint kit_slot_assignment_check check ((assigned_trust_id is null) = (assigned_at is null))
);

create table model_approved_trust (
  model_id uuid not null references model (id) on delete cascade,
  trust_id uuid not null references trust (id) on delete cascade,
  primary key (model_id, trust_id)
);
create index model_approved_trust_trust_idx on model_approved_trust (trust_id);

create table cohort_query (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references project (id),
  name varchar(200) not null,
  query text not null constraint cohort_query_length_check check (length(query) between 1 and 65536),
  created_at timestamptz not null default clock_timestamp(),
  seq bigint generated always as identity
);
create index cohort_query_latest_idx on cohort_query (project_id, seq desc);

create table job (
  id uuid primary key default gen_random_uuid(),
  seq bigint generated always as identity constraint job_seq_unique unique,
  model_id uuid not null references model (id),
  status text not null default 'QUEUED' constraint job_status_check check (status in ('QUEUED', 'IN_PROGRESS', 'COMPLETED', 'DELETED')),
  created_at timestamptz not null default clock_timestamp(),
  started_at timestamptz null,
  completed_at timestamptz null,
  net_id uuid null references net (id),
  backend_job_id varchar(200) null,
  attempts int not null default 0 constraint job_attempts_check check (attempts >= 0),
  claim_token uuid null,
  start_phase text null constraint job_start_phase_check check (start_phase in ('CLAIMED', 'SUBMITTING', 'RUNNING')),
  missing_since timestamptz null,
  constraint job_in_progress_check check (status <> 'IN_PROGRESS'
    or (net_id is not null and started_at is not null and claim_token is not null and start_phase is not null)),
  constraint job_queued_check check (status <> 'QUEUED' or (net_id is null and started_at is null and completed_at is null)),
  constraint job_completed_check check (status <> 'COMPLETED' or completed_at is not null),
  constraint job_id_net_unique unique (id, net_id)
);
create unique index job_one_in_progress_per_net on job (net_id) where status = 'IN_PROGRESS';
create index job_queue_idx on job (seq) where status = 'QUEUED';
create index job_status_seq_idx on job (status, seq);
create index job_model_idx on job (model_id, seq);

create table job_trust (
  job_id uuid not null references job (id) on delete cascade,
  trust_id uuid not null references trust (id),
  primary key (job_id, trust_id)
);
create index job_trust_trust_idx on job_trust (trust_id);

create table scheduler (
  id uuid primary key default gen_random_uuid(),
  net_id uuid not null constraint scheduler_net_unique unique references net (id) on delete cascade,
  status text not null default 'AVAILABLE' constraint scheduler_status_check check (status in ('AVAILABLE', 'BUSY')),
  job_id uuid null constraint scheduler_job_unique unique,
  lease_until timestamptz null,
  sweep_pending boolean not null default false,
  updated_at timestamptz not null default now(),
  constraint scheduler_job_on_own_net_fk foreign key (job_id, net_id) references job (id, net_id) deferrable initially deferred,
  constraint scheduler_available_is_free check (status <> 'AVAILABLE' or (job_id is null and lease_until is null and not sweep_pending)),
  constraint scheduler_busy_is_held check (status <> 'BUSY' or job_id is not null or lease_until is not null)
);
create index scheduler_lease_idx on scheduler (lease_until) where status = 'BUSY';

create table hub_setting (
  key varchar(100) primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
`);
  }

  override down(): void {
    this.addSql(
      'drop table if exists hub_setting, scheduler, job_trust, job, cohort_query, model_approved_trust, kit_slot, trust, model, project, net cascade;',
    );
  }
}
