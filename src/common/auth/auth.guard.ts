import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import type { Request } from 'express';
import { DomainError } from '../errors.js';
import { ROLES_KEY, type Principal, type Role } from './roles.js';
import { TokenVerifier } from './token-verifier.js';

export type AuthenticatedRequest = Request & { principal?: Principal };

/**
 * Deny by default: a GraphQL operation runs only if it declares its roles
 * (`@Allow`) and the caller's token carries one of them (or `admin`).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType<GqlContextType>() !== 'graphql') return true; // REST: /health only
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<{ parentType: { name: string }; fieldName: string }>();
    const allowed = this.reflector.get<Role[] | undefined>(ROLES_KEY, context.getHandler());
    if (!allowed) {
      throw new DomainError('FORBIDDEN', `${info.parentType.name}.${info.fieldName} declares no roles and is refused`);
    }
    const ctx = gql.getContext<{
      req?: AuthenticatedRequest;
      principal?: Principal;
      connectionParams?: Record<string, unknown>;
    }>();
    const principal = ctx.principal ?? ctx.req?.principal ?? (await this.tokens.verify(ctx.req?.headers.authorization));
    if (ctx.req) ctx.req.principal = principal;
    if (!principal.roles.includes('admin') && !principal.roles.some((r) => allowed.includes(r))) {
      throw new DomainError('FORBIDDEN', `${info.fieldName} needs one of the roles ${['admin', ...allowed].join(', ')}`);
    }
    return true;
  }
}
