import { Migration } from '@mikro-orm/migrations';

/**
 * `job_class_queue_idx`: the queue of each priority class across projects,
 * oldest first. The fair claim reads the first few jobs of each class through
 * it to find the bounds of the projects that run nothing (their fair-share
 * keys are all 0, so within a class their order is the queue's), instead of
 * one probe per project and class.
 */
export class Migration20261202000000_queue_class_index extends Migration {
  override name = 'Migration20261202000000_queue_class_index';

  override up(): void {
    this.addSql(`create index job_class_queue_idx on job (priority, seq) where status = 'QUEUED';`);
  }

  override down(): void {
    this.addSql(`drop index job_class_queue_idx;`);
  }
}
