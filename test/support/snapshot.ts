/**
 * The database's state, to prove that a refused call wrote nothing:
 *
 *   const before = await snapshot(db.pool);
 *   expectError(await hub.gql(BAD_MUTATION, vars), 'BAD_USER_INPUT');
 *   expect(await snapshot(db.pool)).toEqual(before);
 *
 * Every table an entity describes (`src/modules/entities.ts`, so a new table is in it without editing this
 * file), each as its row count and a digest of its contents, except `audit_log`: every mutation call is
 * recorded there, refused or not (that is its job).
 */

import { MetadataStorage, type EntityMetadata } from '@mikro-orm/core';
import type pg from 'pg';
import { AuditLogEntity } from '../../src/common/auth/audit-log.entity.js';
import { entities } from '../../src/modules/entities.js';

/** Tables whose rows change on a refused call by design. */
const NOT_STATE = new Set<unknown>([AuditLogEntity]);

function tableName(entity: unknown): string {
  const meta = (entity as Record<symbol, EntityMetadata | undefined>)[MetadataStorage.META_SYMBOL];
  if (!meta?.tableName) throw new Error(`${String((entity as { name?: string }).name)} has no table name`);
  return meta.tableName;
}

export const SNAPSHOT_TABLES: readonly string[] = entities.filter((e) => !NOT_STATE.has(e)).map(tableName);

export type Snapshot = Record<string, { rows: number; digest: string | null }>;

/** Row count and an md5 of the contents of every table but the audit log. */
export async function snapshot(pool: pg.Pool): Promise<Snapshot> {
  const tables: Snapshot = {};
  for (const table of SNAPSHOT_TABLES) {
    const result = await pool.query<{ rows: number; digest: string | null }>(
      `select count(*)::int as rows, md5(string_agg(t::text, '|' order by t::text)) as digest from "${table}" t`,
    );
    tables[table] = result.rows[0];
  }
  return tables;
}
