import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, type RawBuilder } from 'kysely';

export { sql };

/**
 * Runs a raw SQL statement (kysely's `sql` tag: real bind parameters) on the
 * given EntityManager — inside its transaction when it has one.
 */
export async function query<Row>(em: EntityManager, statement: RawBuilder<Row>): Promise<Row[]> {
  const result = await statement.execute(em.getKysely());
  return result.rows;
}

export async function queryOne<Row>(em: EntityManager, statement: RawBuilder<Row>): Promise<Row | undefined> {
  const rows = await query(em, statement);
  return rows[0];
}
