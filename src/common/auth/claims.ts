import type { JWTPayload } from 'jose';
import { DomainError } from '../errors.js';
import { isUuid } from '../validation.js';
import { ROLES, type Principal, type Role } from './roles.js';

const invalid = (message: string) => new DomainError('UNAUTHENTICATED', message);

/**
 * The principal a verified token's claims describe. Unknown roles are
 * ignored (they grant nothing), but a `net` or `projects` claim of the wrong
 * shape makes the whole token invalid: read partly, it would grant a
 * narrower or different scope than its issuer meant, and nobody would notice.
 */
export function principalFromClaims(payload: JWTPayload): Principal {
  const claimed = Array.isArray(payload.roles) ? (payload.roles as unknown[]) : [];
  const roles = claimed.filter((r): r is Role => typeof r === 'string' && (ROLES as string[]).includes(r));
  return {
    subject: typeof payload.sub === 'string' ? payload.sub : 'unknown',
    roles,
    net: netClaim(payload.net),
    projects: projectsClaim(payload.projects),
  };
}

function netClaim(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.trim() === '') throw invalid("the token's net claim must be a net's name");
  return value.trim();
}

function projectsClaim(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((id): id is string => typeof id === 'string' && isUuid(id))) {
    throw invalid("the token's projects claim must be a list of project ids (UUIDs)");
  }
  return [...new Set(value.map((id) => id.toLowerCase()))];
}
