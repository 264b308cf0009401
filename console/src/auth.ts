/** What a token lets the page offer. The hub enforces every call itself; this only decides what to show. */
export type Role = 'admin' | 'researcher' | 'viewer' | 'net';

export interface Permissions {
  /** stopTraining on a running job, removeJob and setJobPriority on a queued one (researcher, admin) */
  controlJobs: boolean;
  /** setDeploymentMode (admin) */
  deploymentMode: boolean;
  /** drainNet / resumeNet (admin) */
  manageNets: boolean;
  /** holdTrust / releaseTrust / setTrustLimit (admin) */
  manageTrusts: boolean;
  /** setProjectLimits (admin) */
  manageProjects: boolean;
}

export interface Identity {
  subject: string;
  roles: Role[];
  /** ms since the epoch; null: no exp claim */
  expiresAt: number | null;
}

const KNOWN_ROLES: readonly string[] = ['admin', 'researcher', 'viewer', 'net'];

function base64UrlDecode(text: string): string {
  const base64 = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The token's claims, unverified (the page cannot verify and need not: the hub does); null when it is no JWT. */
export function decodeToken(token: string): Identity | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(base64UrlDecode(parts[1] ?? '')) as Record<string, unknown>;
    const roles = Array.isArray(claims.roles)
      ? claims.roles.filter((r): r is Role => typeof r === 'string' && KNOWN_ROLES.includes(r))
      : [];
    return {
      subject: typeof claims.sub === 'string' ? claims.sub : 'unknown',
      roles,
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
    };
  } catch {
    return null;
  }
}

export function permissionsOf(roles: readonly Role[]): Permissions {
  const admin = roles.includes('admin');
  return {
    controlJobs: admin || roles.includes('researcher'),
    deploymentMode: admin,
    manageNets: admin,
    manageTrusts: admin,
    manageProjects: admin,
  };
}

/** `#token=<jwt>` (also among other fragment parameters); null when absent */
export function tokenFromFragment(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token')?.trim();
  return token ? token : null;
}
