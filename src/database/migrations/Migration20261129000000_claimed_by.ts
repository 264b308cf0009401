import { Migration } from '@mikro-orm/migrations';

/**
 * Which hub instance (its `application_name`) claimed a job. Lease recovery
 * leaves a start that reached `submit_job` to its instance while that
 * instance still has a session: a run may exist that only it can confirm.
 */
export class Migration20261129000000_claimed_by extends Migration {
  override name = 'Migration20261129000000_claimed_by';

  override up(): void {
    this.addSql(`alter table job add column claimed_by varchar(63) null;`);
  }

  override down(): void {
    this.addSql(`alter table job drop column claimed_by;`);
  }
}
