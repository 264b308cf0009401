import { EntityManager } from '@mikro-orm/postgresql';
import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { HUB_INSTANCE_NAME } from '../database/database.tokens.js';
import { query, sql } from '../database/sql.js';
import { EventsListener } from '../events/events.listener.js';
import { NetClient } from '../fl-backends/net-client.js';
import { NET } from '../modules/jobs/lifecycle/fragments.js';

const NET_PROBE_TIMEOUT_MS = 2_000;

/**
 * `GET /health`: 200 while the database answers (503 otherwise), with each
 * net's reachability (`/check_server_status`) reported beside it — a net being
 * down does not make the hub unhealthy, but it shows here — and this
 * instance's part in the dispatch (its name, whether it leads, whether it
 * receives the change notifications).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly em: EntityManager,
    private readonly nets: NetClient,
    private readonly events: EventsListener,
    @Inject(HUB_INSTANCE_NAME) private readonly instanceName: string,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database(), () => this.netReachability(), () => this.dispatch()]);
  }

  private dispatch() {
    return this.indicators.check('dispatch').up({
      instance: this.instanceName,
      // which process answered (several instances may run on one host)
      pid: process.pid,
      leader: this.events.leader,
      notifications: this.events.connected,
      // hears every change: the leader, or an instance with GraphQL subscribers
      streaming: this.events.streaming,
    });
  }

  private async database() {
    const indicator = this.indicators.check('database');
    try {
      const [row] = await query<{ total: number; busy: number }>(
        this.em.fork(),
        sql`select count(*)::int as total, count(*) filter (where status = ${NET.BUSY})::int as busy from scheduler`,
      );
      return indicator.up({ nets: row.total, busyNets: row.busy });
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : 'unreachable' });
    }
  }

  private async netReachability() {
    const indicator = this.indicators.check('nets');
    let nets: Array<{ name: string; endpoint: string }>;
    try {
      nets = await query(this.em.fork(), sql`select name, endpoint from net order by name`);
    } catch {
      return indicator.up({ unknown: 'the database is unreachable' });
    }
    const probes = await Promise.all(
      nets.map(async (net) => {
        try {
          const answer = await Promise.race([
            this.nets.checkServerStatus(net),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), NET_PROBE_TIMEOUT_MS).unref()),
          ]);
          return [net.name, { reachable: true, status: answer.status }] as const;
        } catch (error) {
          return [net.name, { reachable: false, error: error instanceof Error ? error.message : 'unreachable' }] as const;
        }
      }),
    );
    return indicator.up(Object.fromEntries(probes));
  }
}
