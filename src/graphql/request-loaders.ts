import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import DataLoader from 'dataloader';
import type { AuthenticatedRequest } from '../common/auth/auth.guard.js';
import type { Principal } from '../common/auth/roles.js';

/**
 * A module's batch loaders (DataLoaders) for one request, made by an
 * injectable of that module: each nested field then costs one query per
 * request, not one per row. `cache: false` for long-lived contexts
 * (subscriptions): batch within a tick, never serve stale rows.
 */
export interface LoaderSet {
  create(options: { cache: boolean }): object;
}

/**
 * The loaders of one GraphQL request, made on first use from the module
 * that owns them. The GraphQL layer knows no module: each resolver names the
 * loader set it needs (`loaders.of(JobLoaders).job`).
 */
export class RequestLoaders {
  private readonly sets = new Map<Type<LoaderSet>, object>();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly cache: boolean,
  ) {}

  of<S extends LoaderSet>(type: Type<S>): ReturnType<S['create']> {
    let set = this.sets.get(type);
    if (set === undefined) {
      set = this.moduleRef.get(type, { strict: false }).create({ cache: this.cache });
      this.sets.set(type, set);
    }
    return set as ReturnType<S['create']>;
  }
}

/** What every resolver finds in its GraphQL context. */
export interface GqlContext {
  req?: AuthenticatedRequest;
  /** set for subscriptions (verified at connection_init) */
  principal?: Principal;
  loaders: RequestLoaders;
}

type BatchFn<V> = (keys: readonly string[]) => Promise<ArrayLike<V | Error>>;

/** A DataLoader keyed by id. */
export function batchLoader<V>(batch: BatchFn<V>, options: { cache: boolean }): DataLoader<string, V> {
  return new DataLoader<string, V>(batch, { cache: options.cache });
}

/** The row of each key, in key order (null where none). */
export function byKey<T, K extends keyof T>(rows: T[], key: K, keys: readonly T[K][]): Array<T | null> {
  const index = new Map(rows.map((row) => [row[key], row]));
  return keys.map((k) => index.get(k) ?? null);
}

/** The rows of each key, in key order. */
export function groupedBy<T, K extends keyof T>(rows: T[], key: K, keys: readonly T[K][]): T[][] {
  const groups = Map.groupBy(rows, (row) => row[key]);
  return keys.map((k) => groups.get(k) ?? []);
}
