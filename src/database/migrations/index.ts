import { Migration20261128000000_init } from './Migration20261128000000_init.js';
import { Migration20261128010000_audit_log } from './Migration20261128010000_audit_log.js';
import { Migration20261128020000_change_notifications } from './Migration20261128020000_change_notifications.js';
import { Migration20261129000000_claimed_by } from './Migration20261129000000_claimed_by.js';
import { Migration20261201040000_net_clients_drain } from './Migration20261201040000_net_clients_drain.js';
import { Migration20261201050000_job_v2 } from './Migration20261201050000_job_v2.js';
import { Migration20261201060000_admission } from './Migration20261201060000_admission.js';
import { Migration20261201070000_job_limits } from './Migration20261201070000_job_limits.js';
import { Migration20261201080000_admission_notify } from './Migration20261201080000_admission_notify.js';
import { Migration20261201090000_order } from './Migration20261201090000_order.js';
import { Migration20261201100000_trust_project_notify } from './Migration20261201100000_trust_project_notify.js';
import { Migration20261201105000_revoked_approval } from './Migration20261201105000_revoked_approval.js';
import { Migration20261202000000_queue_class_index } from './Migration20261202000000_queue_class_index.js';

/** Every migration, in order. Listed explicitly: no file globbing at run time. */
export const migrationsList = [
  { name: 'Migration20261128000000_init', class: Migration20261128000000_init },
  { name: 'Migration20261128010000_audit_log', class: Migration20261128010000_audit_log },
  { name: 'Migration20261128020000_change_notifications', class: Migration20261128020000_change_notifications },
  { name: 'Migration20261129000000_claimed_by', class: Migration20261129000000_claimed_by },
  { name: 'Migration20261201040000_net_clients_drain', class: Migration20261201040000_net_clients_drain },
  { name: 'Migration20261201050000_job_v2', class: Migration20261201050000_job_v2 },
  { name: 'Migration20261201060000_admission', class: Migration20261201060000_admission },
  { name: 'Migration20261201070000_job_limits', class: Migration20261201070000_job_limits },
  { name: 'Migration20261201080000_admission_notify', class: Migration20261201080000_admission_notify },
  { name: 'Migration20261201090000_order', class: Migration20261201090000_order },
  { name: 'Migration20261201100000_trust_project_notify', class: Migration20261201100000_trust_project_notify },
  { name: 'Migration20261201105000_revoked_approval', class: Migration20261201105000_revoked_approval },
  { name: 'Migration20261202000000_queue_class_index', class: Migration20261202000000_queue_class_index },
];
