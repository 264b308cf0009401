import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';

/** The statements each pooled session has prepared for one-trip transactions (a session lost takes its set with it). */
const preparedOn = new WeakMap<pg.ClientBase, Set<string>>();

/** statement texts met so far and their names (the hub's one-trip statements are a handful) */
const tripNames = new Map<string, string>();

/** `fl_trip_<hash of the text>`: apart from PreparingClient's names, so the two never try to prepare one name twice. */
function tripStatementName(text: string): string {
  let name = tripNames.get(text);
  if (name === undefined) {
    name = `fl_trip_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    if (tripNames.size < 64) tripNames.set(text, name);
  }
  return name;
}

/** A bind value as an SQL literal of unknown type (PostgreSQL casts it to the parameter's type, as it does a bound value). */
function literal(client: pg.ClientBase, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return client.escapeLiteral(value.toISOString());
  if (typeof value === 'string') return client.escapeLiteral(value);
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean' || typeof value === 'bigint') {
    return client.escapeLiteral(String(value));
  }
  throw new TypeError(`a one-trip transaction binds strings, finite numbers, booleans, dates and nulls, not ${typeof value}`);
}

/** SQLSTATE 26000: the session has no prepared statement of that name. */
const UNDEFINED_PREPARED_STATEMENT = '26000';

/** The error's SQLSTATE; undefined for an error that did not come from the server. */
function sqlState(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined;
}

export interface OneTripResult<Prelude, Row> {
  /** the prelude's first row */
  prelude: Prelude;
  rows: Row[];
}

/**
 * A transaction in ONE round trip: `begin; <prelude>; execute <statement>;
 * commit`, sent as a single simple-protocol message on a session of the
 * ORM's pool. `statement` runs as a prepared statement of that session
 * (prepared by a round trip of its own the first time the session meets it),
 * so it is parsed once per session and keeps the plan its settings give it.
 * Under READ COMMITTED each statement of the message takes its own snapshot
 * when it starts: `statement` sees every transaction that committed before
 * the prelude's locks were granted. A failed statement skips the rest of the
 * message; the transaction is rolled back and the error raised. Needs a
 * session that keeps its prepared statements (not a transaction-pooling
 * proxy: DB_PREPARED_STATEMENTS=false).
 */
export async function oneTripTransaction<Prelude, Row>(
  em: EntityManager,
  prelude: string,
  statement: CompiledQuery,
): Promise<OneTripResult<Prelude, Row>> {
  const pool = await em.getConnection().getNativeClient();
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const name = tripStatementName(statement.sql);
    let prepared = preparedOn.get(client);
    if (!prepared) preparedOn.set(client, (prepared = new Set()));
    const values = statement.parameters.map((value) => literal(client, value)).join(', ');
    // the statement's closing comment names it in the message too (what pg_stat_activity and current_query() show)
    const label = /\/\*[^*]*\*\/\s*$/.exec(statement.sql)?.[0].trim() ?? '';
    const message = `begin; ${prelude}; execute ${name}${values.length > 0 ? `(${values})` : ''} ${label}; commit`;
    for (let tries = 1; ; tries++) {
      if (!prepared.has(name)) {
        await client.query(`prepare ${name} as ${statement.sql}`);
        prepared.add(name);
      }
      try {
        const results = (await client.query(message)) as unknown as pg.QueryResult[];
        return { prelude: results[1].rows[0] as Prelude, rows: results[2].rows as Row[] };
      } catch (error) {
        // not an SQL error (the session lost): nothing to end here, the session is dropped below
        if (sqlState(error) === undefined) throw error;
        // the message stopped at the failed statement, inside the transaction: end it (a session that cannot is dropped)
        await client.query('rollback').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        // the session lost the statement (DEALLOCATE, DISCARD): nothing was done; prepare it again, once
        if (sqlState(error) === UNDEFINED_PREPARED_STATEMENT && broken === undefined) {
          prepared.delete(name);
          if (tries === 1) continue;
        }
        throw error;
      }
    }
  } catch (error) {
    // a session that failed below the SQL level (lost, timed out) is not given back to the pool
    if (sqlState(error) === undefined) broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken);
  }
}
