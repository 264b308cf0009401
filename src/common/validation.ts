import { badInput } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const MAX_NAME_LENGTH = 200;
export const MAX_QUERY_BYTES = 64 * 1024;
/** Upper bound for list arguments such as `trustIds`. */
export const MAX_ID_LIST = 500;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function assertUuid(value: string, field: string): string {
  if (typeof value !== 'string' || !isUuid(value)) throw badInput(`${field} must be a UUID`, { field });
  return value.toLowerCase();
}

export function assertUuidList(values: readonly string[], field: string, options: { allowEmpty: boolean }): string[] {
  if (!Array.isArray(values)) throw badInput(`${field} must be a list of UUIDs`, { field });
  if (!options.allowEmpty && values.length === 0) throw badInput(`${field} must not be empty`, { field });
  if (values.length > MAX_ID_LIST) throw badInput(`${field} may hold at most ${MAX_ID_LIST} ids`, { field });
  const ids = (values as readonly string[]).map((v) => assertUuid(v, field));
  if (new Set(ids).size !== ids.length) throw badInput(`${field} lists the same id twice`, { field });
  return ids;
}

function assertNoNul(value: string, field: string): void {
  if (value.includes('\0')) throw badInput(`${field} must not contain a NUL character`, { field });
}

/** A display name: trimmed, 1–200 characters, no NUL. */
export function normalizeName(value: string, field = 'name'): string {
  if (typeof value !== 'string') throw badInput(`${field} must be a string`, { field });
  assertNoNul(value, field);
  const trimmed = value.trim();
  if (trimmed.length < 1 || trimmed.length > MAX_NAME_LENGTH) {
    throw badInput(`${field} must be 1–${MAX_NAME_LENGTH} characters after trimming`, { field });
  }
  return trimmed;
}

/** A cohort query text: 1 character to 64 KiB (UTF-8), no NUL. */
export function assertQueryText(value: string, field = 'query'): string {
  if (typeof value !== 'string') throw badInput(`${field} must be a string`, { field });
  assertNoNul(value, field);
  if (value.trim().length === 0) throw badInput(`${field} must not be empty`, { field });
  if (Buffer.byteLength(value, 'utf8') > MAX_QUERY_BYTES) {
    throw badInput(`${field} must be at most ${MAX_QUERY_BYTES} bytes`, { field });
  }
  return value;
}
