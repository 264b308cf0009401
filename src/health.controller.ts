import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from './database/sql.js';

@Controller('health')
export class HealthController {
  constructor(private readonly em: EntityManager) {}

  @Get()
  @HttpCode(200)
  async health(): Promise<{ status: 'ok'; database: 'up'; nets: { total: number; busy: number } }> {
    try {
      const [row] = await query<{ total: number; busy: number }>(
        this.em.fork(),
        sql`select count(*)::int as total, count(*) filter (where status = 'BUSY')::int as busy from scheduler`,
      );
      return { status: 'ok', database: 'up', nets: row };
    } catch {
      throw new ServiceUnavailableException({ status: 'error', database: 'down' });
    }
  }
}
