import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PubSub } from 'graphql-subscriptions';
import type { JobModel } from '../modules/jobs/job.model.js';
import type { SchedulerModel } from '../modules/schedulers/scheduler.model.js';
import { EventsListener } from './events.listener.js';

export const JOB_UPDATED = 'jobUpdated';
export const SCHEDULER_UPDATED = 'schedulerUpdated';

/**
 * Feeds the GraphQL subscriptions from the database's change notifications,
 * so a subscriber sees every transition, in commit order, whichever hub
 * instance made it.
 */
@Injectable()
export class LiveUpdates implements OnModuleDestroy {
  readonly pubSub = new PubSub();
  private readonly unsubscribe: () => void;

  constructor(events: EventsListener) {
    this.unsubscribe = events.onEvent((event) => {
      if (event.kind === 'job') {
        const { kind: _kind, ...row } = event;
        const job = { ...row, status: row.status } as unknown as JobModel;
        void this.pubSub.publish(JOB_UPDATED, { [JOB_UPDATED]: job });
      } else {
        const { kind: _kind, ...row } = event;
        void this.pubSub.publish(SCHEDULER_UPDATED, { [SCHEDULER_UPDATED]: row as unknown as SchedulerModel });
      }
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }
}
