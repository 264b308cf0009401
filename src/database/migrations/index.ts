import { Migration20261128000000_init } from './Migration20261128000000_init.js';

/** Every migration, in order. Listed explicitly: no file globbing at run time. */
export const migrationsList = [{ name: 'Migration20261128000000_init', class: Migration20261128000000_init }];
