import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { query, sql } from '../../database/sql.js';
import { asDomainError } from '../error-mapping.js';
import type { AuthenticatedRequest } from './auth.guard.js';

const MAX_TARGET_TEXT = 500;

/** Arguments as stored in the audit log: long texts (cohort queries) shortened. */
function auditTarget(args: Record<string, unknown>): unknown {
  return JSON.parse(
    JSON.stringify(args, (_key, value: unknown) =>
      typeof value === 'string' && value.length > MAX_TARGET_TEXT ? `${value.slice(0, MAX_TARGET_TEXT)}…` : value,
    ),
  ) as unknown;
}

/** Writes every mutation — who, what, when, on which target, and whether it succeeded — to `audit_log`. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Audit');

  constructor(private readonly em: EntityManager) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<GqlContextType>() !== 'graphql') return next.handle();
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<{ parentType: { name: string }; fieldName: string }>();
    if (info.parentType.name !== 'Mutation') return next.handle();
    const principal = gql.getContext<{ req?: AuthenticatedRequest }>().req?.principal;
    const entry = {
      actor: principal?.subject ?? 'anonymous',
      roles: principal?.roles ?? [],
      operation: info.fieldName,
      target: auditTarget(gql.getArgs()),
    };
    return from(
      (async () => {
        try {
          const result: unknown = await lastValueFrom(next.handle(), { defaultValue: null });
          await this.record(entry, 'OK', null);
          return result;
        } catch (error) {
          await this.record(entry, 'ERROR', asDomainError(error)?.code ?? 'INTERNAL');
          throw error;
        }
      })(),
    );
  }

  private async record(
    entry: { actor: string; roles: string[]; operation: string; target: unknown },
    outcome: 'OK' | 'ERROR',
    errorCode: string | null,
  ): Promise<void> {
    try {
      await query(
        this.em.fork(),
        sql`insert into audit_log (actor, roles, operation, target, outcome, error_code)
            values (${entry.actor}, ${entry.roles}::text[], ${entry.operation}, ${JSON.stringify(entry.target)}::jsonb, ${outcome}, ${errorCode})`,
      );
    } catch (error) {
      this.logger.error(`could not write the audit entry for ${entry.operation} by ${entry.actor}: ${String(error)}`);
    }
  }
}
