import { randomBytes } from 'node:crypto';

/** Injection token: the PostgreSQL URL the hub runs on (a server, or the embedded cluster). */
export const DATABASE_URL = Symbol('DATABASE_URL');

/**
 * Injection token: this hub instance's name, e.g. `fl-scheduler/3f9c0a1e` —
 * the `application_name` of its database sessions (`pg_stat_activity` shows
 * which instance holds which session, and which one leads the dispatch).
 */
export const HUB_INSTANCE_NAME = Symbol('HUB_INSTANCE_NAME');

const HUB_INSTANCE_PREFIX = 'fl-scheduler/';

/** A fresh instance name (one per process start; fits PostgreSQL's 63-byte application_name). */
export function newHubInstanceName(): string {
  return `${HUB_INSTANCE_PREFIX}${randomBytes(4).toString('hex')}`;
}
