import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { DomainError } from '../errors.js';
import type { AuthenticatedRequest } from './auth.guard.js';
import type { Principal } from './roles.js';

/**
 * The projects a caller may see or act on: every project, or a list. Derived
 * from the principal in the resolver and passed to the services, which
 * filter their SQL by it and check the project of what they touch.
 */
export class ProjectScope {
  static readonly ALL = new ProjectScope(null);

  /** null: every project */
  private constructor(private readonly ids: readonly string[] | null) {}

  static only(projectIds: readonly string[]): ProjectScope {
    return new ProjectScope([...projectIds]);
  }

  /** What a caller sees: admin and viewer every project, a researcher those of its `projects` claim, anyone else none. */
  static forReading(principal: Principal): ProjectScope {
    if (principal.roles.includes('admin') || principal.roles.includes('viewer')) return ProjectScope.ALL;
    return ProjectScope.only(principal.roles.includes('researcher') ? principal.projects : []);
  }

  /** What a caller may change: admin every project, a researcher those of its `projects` claim (viewer rights do not widen it). */
  static forActing(principal: Principal): ProjectScope {
    if (principal.roles.includes('admin')) return ProjectScope.ALL;
    return ProjectScope.only(principal.roles.includes('researcher') ? principal.projects : []);
  }

  get unrestricted(): boolean {
    return this.ids === null;
  }

  /** The project ids for a SQL filter; only for a restricted scope. */
  get projectIds(): string[] {
    return this.ids === null ? [] : [...this.ids];
  }

  includes(projectId: string): boolean {
    return this.ids === null || this.ids.includes(projectId.toLowerCase());
  }

  /** FORBIDDEN unless the project is in scope; `what` names the thing touched. */
  assertIncludes(projectId: string, what: string): void {
    if (!this.includes(projectId)) {
      throw new DomainError('FORBIDDEN', `${what} belongs to a project outside this token's projects claim`);
    }
  }
}

/**
 * Which nets' runs a caller may report on (`completeTraining`,
 * `updateModelStatus`): every net for admin, else only the net named in the
 * token's `net` claim — none without one. A researcher role never widens it.
 */
export class NetScope {
  static readonly ANY = new NetScope(null, true);

  private constructor(
    /** the one net whose runs may be reported on (null: none, unless `any`) */
    readonly net: string | null,
    readonly any: boolean,
  ) {}

  static of(principal: Principal): NetScope {
    if (principal.roles.includes('admin')) return NetScope.ANY;
    return new NetScope(principal.roles.includes('net') ? principal.net : null, false);
  }
}

const NOBODY: Principal = { subject: 'anonymous', roles: [], net: null, projects: [] };

/** The principal the guard verified for this GraphQL request or subscription (none: one that may see and do nothing). */
export function principalOf(context: { req?: AuthenticatedRequest; principal?: Principal }): Principal {
  return context.principal ?? context.req?.principal ?? NOBODY;
}

function contextPrincipal(ctx: ExecutionContext): Principal {
  return principalOf(GqlExecutionContext.create(ctx).getContext());
}

/** Resolver parameter: the caller's ProjectScope for reading (also in field resolvers: the root field's guard ran first). */
export const ReadScope = createParamDecorator((_data: unknown, ctx: ExecutionContext) =>
  ProjectScope.forReading(contextPrincipal(ctx)),
);

/** Resolver parameter: the caller's ProjectScope for changes. */
export const ActScope = createParamDecorator((_data: unknown, ctx: ExecutionContext) =>
  ProjectScope.forActing(contextPrincipal(ctx)),
);

/** Resolver parameter: the caller's NetScope for run reports. */
export const Reporter = createParamDecorator((_data: unknown, ctx: ExecutionContext) => NetScope.of(contextPrincipal(ctx)));
