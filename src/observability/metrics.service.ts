import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { query, sql } from '../database/sql.js';

/**
 * Prometheus metrics of this hub instance (one registry per app, so several
 * instances in one process stay apart). Queue depth and net states are read
 * from the database at scrape time; counters and histograms count what this
 * instance did.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly dispatches = new Counter({
    name: 'fl_dispatches_total',
    help: 'jobs started on a net by this instance',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });

  readonly startFailures = new Counter({
    name: 'fl_start_failures_total',
    help: 'starts that failed, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly startAttempts = new Counter({
    name: 'fl_start_attempts_total',
    help: 'tries to start a job, by outcome (STARTED, CLIENTS_OFFLINE, NET_ERROR, REJECTED)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly jobEnds = new Counter({
    name: 'fl_job_ends_total',
    help: 'jobs this instance ended without COMPLETED, by endReason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly netBackoffs = new Counter({
    name: 'fl_net_backoffs_total',
    help: 'nets held back after a failed call (taking no job until a probe answers), and probes, by outcome',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly pickupLatency = new Histogram({
    name: 'fl_pickup_latency_seconds',
    help: 'from a job being queued to its run being started on a net',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });

  readonly netCallDuration = new Histogram({
    name: 'fl_net_call_duration_seconds',
    help: 'duration of HTTP calls to nets',
    labelNames: ['call', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** whether this instance leads the dispatch: told by the events connection, which knows */
  private leads: () => boolean = () => false;

  constructor(private readonly em: EntityManager) {
    collectDefaultMetrics({ register: this.registry });
    const readStates = () =>
      query<{ queued: number; available: number; busy: number }>(
        this.em.fork(),
        sql`select (select count(*)::int from job where status = 'QUEUED') as queued,
                   count(*) filter (where status = 'AVAILABLE')::int as available,
                   count(*) filter (where status = 'BUSY')::int as busy
            from scheduler`,
      ).then((rows) => rows[0]);
    new Gauge({
      name: 'fl_queue_depth',
      help: 'jobs waiting in the queue',
      registers: [this.registry],
      async collect() {
        this.set((await readStates()).queued);
      },
    });
    new Gauge({
      name: 'fl_nets',
      help: 'nets by scheduler status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const states = await readStates();
        this.set({ status: 'AVAILABLE' }, states.available);
        this.set({ status: 'BUSY' }, states.busy);
      },
    });
    const leads = () => this.leads();
    new Gauge({
      name: 'fl_dispatch_leader',
      help: '1 while this instance leads the dispatch (claims for every change at once), else 0',
      registers: [this.registry],
      collect() {
        this.set(leads() ? 1 : 0);
      },
    });
  }

  /** Where `fl_dispatch_leader` reads from (the events connection registers itself). */
  reportDispatchLeader(leads: () => boolean): void {
    this.leads = leads;
  }
}
