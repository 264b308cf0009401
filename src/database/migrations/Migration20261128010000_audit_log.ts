import { Migration } from '@mikro-orm/migrations';

/** Who did what to which target, and when: one row per mutation call. */
export class Migration20261128010000_audit_log extends Migration {
  override name = 'Migration20261128010000_audit_log';

  override up(): void {
    this.addSql(`
create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default clock_timestamp(),
  actor varchar(200) not null,
  roles text[] not null,
  operation varchar(100) not null,
  target jsonb not null,
  outcome text not null constraint audit_log_outcome_check check (outcome in ('OK', 'ERROR')),
  error_code varchar(50) null
);
create index audit_log_at_idx on audit_log (at desc);
`);
  }

  override down(): void {
    this.addSql('drop table if exists audit_log;');
  }
}
