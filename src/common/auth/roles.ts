import { SetMetadata } from '@nestjs/common';

export type Role = 'admin' | 'researcher' | 'viewer' | 'net';
export const ROLES: readonly Role[] = ['admin', 'researcher', 'viewer', 'net'];

export const ROLES_KEY = 'fl:roles';

/**
 * Declares who may call an operation. Every query, mutation and subscription
 * must declare it: an operation without a declaration is refused (deny by
 * default). `admin` may do everything, so it never needs to be listed.
 */
export const Allow = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Role sets used across the schema. */
export const READERS: Role[] = ['viewer', 'researcher'];

export interface Principal {
  subject: string;
  roles: Role[];
  /** the `net` claim: the net a `net` token reports for; null without one (it may report on nothing) */
  net: string | null;
  /** the `projects` claim: the project ids a `researcher` token acts on and sees; empty when absent */
  projects: string[];
}
