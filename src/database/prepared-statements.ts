import { createHash } from 'node:crypto';
import pg from 'pg';

/** Statements worth preparing: the hub's queries and writes (not BEGIN/COMMIT/SET/DDL). */
const PREPARABLE = /^\s*(?:select|with|insert|update|delete)\b/i;

/** Named statements one connection keeps at most; past this, statements run unnamed (parsed and planned each time). */
export const MAX_PREPARED_PER_CONNECTION = 256;

/** Distinct statement texts given a name, process-wide; the hub's SQL is a fixed set, far below this. */
const MAX_NAMED_TEXTS = 2048;

/** each query or write seen: its name, or null when the text holds several statements */
const names = new Map<string, string | null>();

/** No `;` outside the text's `--` comments: one statement (a text of several, a migration, runs as given). */
function isOneStatement(text: string): boolean {
  return !text.replace(/--[^\n]*/g, '').includes(';');
}

/** `fl_<hash of the text>`: the same text gets the same name on every connection; null: run it unnamed. */
function statementName(text: string): string | null {
  const known = names.get(text);
  if (known !== undefined) return known;
  if (names.size >= MAX_NAMED_TEXTS) return null;
  const name = isOneStatement(text) ? `fl_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}` : null;
  names.set(text, name);
  return name;
}

type QueryCallback = (error: Error, result: pg.QueryResult) => void;

/**
 * A `pg` client that runs the hub's statements as NAMED prepared statements:
 * PostgreSQL parses each text once per connection and, after a few runs,
 * may keep a generic plan, instead of parsing and planning the same claim
 * or queue statement on every call. Given to the pool as its `Client`, so
 * every query through MikroORM / kysely uses it unchanged.
 *
 * Not for a transaction-pooling proxy in front of PostgreSQL (named
 * statements live on one server session): set DB_PREPARED_STATEMENTS=false.
 */
export class PreparingClient extends pg.Client {
  /** names this connection has prepared (or is preparing) */
  readonly prepared = new Set<string>();
}

// kysely calls query(text, values); every other form passes through untouched. pg.Client's own
// query is looked up at each call, not captured, so whatever wraps it (a test spy) still sees every call.
PreparingClient.prototype.query = function query(
  this: PreparingClient,
  config: unknown,
  values?: unknown,
  callback?: QueryCallback,
): unknown {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(this) below
  const base = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  if (typeof config === 'string' && (values === undefined || Array.isArray(values)) && PREPARABLE.test(config)) {
    const name = statementName(config);
    if (name !== null && (this.prepared.has(name) || this.prepared.size < MAX_PREPARED_PER_CONNECTION)) {
      this.prepared.add(name);
      return base.call(this, { name, text: config, values: (values as unknown[] | undefined) ?? [] }, callback);
    }
  }
  return base.call(this, config, values, callback);
} as typeof PreparingClient.prototype.query;
