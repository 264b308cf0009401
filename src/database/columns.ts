import {
  MetadataStorage,
  ReferenceKind,
  UnderscoreNamingStrategy,
  type EntityClass,
  type EntityMetadata,
  type Opt,
} from '@mikro-orm/core';
import type { RawBuilder } from 'kysely';
import { sql } from './sql.js';

/** Values a column holds as itself; anything else an entity property holds is a relation, selected as its id. */
type ColumnValue = string | number | boolean | bigint | Date | readonly unknown[];

type IsRelation<V> = [NonNullable<V>] extends [ColumnValue] ? false : true;

/** `JobStatus & Opt` (optional in `em.create`) is a JobStatus in a row. */
type WithoutOpt<V> = V extends Opt<infer U> ? U : V;

/** Properties of E that are one column: scalars and to-one relations (not collections, not methods). */
export type ColumnProperty<E> = {
  [K in keyof E & string]: NonNullable<E[K]> extends { getItems(): unknown }
    ? never
    : E[K] extends (...args: never[]) => unknown
      ? never
      : K;
}[keyof E & string];

/** A row of E's properties K: a relation `net` comes as `netId`, its id (null when the relation is). */
export type EntityRow<E, K extends ColumnProperty<E>> = {
  -readonly [P in K as IsRelation<E[P]> extends true ? `${P}Id` : P]-?: IsRelation<E[P]> extends true
    ? string | (null extends E[P] ? null : never)
    : WithoutOpt<Exclude<E[P], undefined>>;
};

/** Row, checked to have exactly Model's fields, each of a type the model takes. */
export type RowFor<Model, Row extends Model & Record<Exclude<keyof Row, keyof Model>, never>> = Row;

/** A select list whose rows are Row (the type goes with the text). */
export type ColumnList<Row> = RawBuilder<Row> & { readonly text: string };

/** The row a column list selects. */
export type RowOf<List> = List extends ColumnList<infer Row> ? Row : never;

const naming = new UnderscoreNamingStrategy();

interface DecoratedProperty {
  kind: ReferenceKind;
  fieldName?: string;
  joinColumns?: string[];
  /** set on the inverse side of a relation, which has no column */
  mappedBy?: unknown;
}

/** What the decorators recorded about a property (before discovery, which the ORM runs at start-up). */
function decoratedProperty(entity: EntityClass<unknown>, property: string): DecoratedProperty {
  const meta = (entity as unknown as Record<symbol, EntityMetadata | undefined>)[MetadataStorage.META_SYMBOL];
  const prop = (meta?.properties as Record<string, DecoratedProperty | undefined> | undefined)?.[property];
  if (!prop) throw new Error(`${entity.name}.${property} is not a mapped property`);
  return prop;
}

/**
 * The column property `property` of `entity` is stored in, named as MikroORM's
 * discovery names it (the default naming strategy; the schema test checks
 * they agree). Read from the decorators, so it works at module load.
 */
export function columnName<E>(entity: EntityClass<E>, property: ColumnProperty<E>): string {
  const prop = decoratedProperty(entity, property);
  if (prop.kind === ReferenceKind.SCALAR) return prop.fieldName ?? naming.propertyToColumnName(property);
  if (prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.mappedBy)) {
    return prop.joinColumns?.[0] ?? naming.joinColumnName(property);
  }
  throw new Error(`${entity.name}.${property} is a ${prop.kind} relation without a column`);
}

/**
 * `alias.column as "property"` for each property (`alias.column` when they
 * are the same; a relation as `"<property>Id"`), computed once: the select
 * list and its row type both come from the entity, so a typo does not compile.
 */
export function columns<E, const K extends ColumnProperty<E>>(
  entity: EntityClass<E>,
  alias: string,
  properties: readonly K[],
): ColumnList<EntityRow<E, K>> {
  return selectList(
    properties.map((property) => {
      const column = columnName(entity, property);
      const key = decoratedProperty(entity, property).kind === ReferenceKind.SCALAR ? property : `${property}Id`;
      return column === key ? `${alias}.${column}` : `${alias}.${column} as "${key}"`;
    }),
  );
}

/** Several entities' column lists as one select list (a join), its row all of theirs. */
export function joinColumns<A, B>(a: ColumnList<A>, b: ColumnList<B>): ColumnList<A & B> {
  return selectList([a.text, b.text]);
}

/**
 * Computed entries of a select list, `expression as "key"` each. Their row
 * type is declared, not derived: keep it next to the SQL it describes.
 */
export function expressions<Row>(parts: { readonly [K in keyof Row & string]: string }): ColumnList<Row> {
  return selectList(Object.entries<string>(parts).map(([key, expression]) => `${expression} as "${key}"`));
}

function selectList<Row>(parts: string[]): ColumnList<Row> {
  const text = parts.join(', ');
  return Object.assign(sql.raw<Row>(text), { text });
}
