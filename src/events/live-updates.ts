import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PubSub } from 'graphql-subscriptions';
import { EventsListener } from './events.listener.js';
import type { HubEvent } from './hub-events.js';

export const JOB_UPDATED = 'jobUpdated';
export const SCHEDULER_UPDATED = 'schedulerUpdated';
export const TRUST_UPDATED = 'trustUpdated';
export const PROJECT_UPDATED = 'projectUpdated';

/** The subscription each kind of change feeds. */
const TRIGGERS: Record<HubEvent['kind'], string> = {
  job: JOB_UPDATED,
  scheduler: SCHEDULER_UPDATED,
  trust: TRUST_UPDATED,
  project: PROJECT_UPDATED,
};

/**
 * A PubSub that keeps this instance listening to the database's change
 * stream while it has subscribers: a subscription starts once the instance
 * LISTENs, so it sees every change committed after that, and the last one
 * to end lets the instance stop listening (unless it leads the dispatch).
 */
class StreamPubSub extends PubSub {
  private readonly releases = new Map<number, () => void>();

  constructor(private readonly events: EventsListener) {
    super();
  }

  override async subscribe(triggerName: string, onMessage: (...args: unknown[]) => void): Promise<number> {
    // registered first: a change heard while the stream starts (during its snapshot) is not dropped
    const id = await super.subscribe(triggerName, onMessage);
    const retained = this.events.retainStream();
    this.releases.set(id, () => void retained.then((release) => release()));
    await retained;
    return id;
  }

  override unsubscribe(subId: number): void {
    super.unsubscribe(subId);
    this.releases.get(subId)?.();
    this.releases.delete(subId);
  }

  releaseAll(): void {
    for (const release of this.releases.values()) release();
    this.releases.clear();
  }
}

/**
 * Feeds the GraphQL subscriptions from the database's change notifications,
 * so a subscriber sees every transition, in commit order, whichever hub
 * instance made it.
 */
@Injectable()
export class LiveUpdates implements OnModuleDestroy {
  /** what the subscription resolvers iterate */
  get pubSub(): PubSub {
    return this.stream;
  }

  private readonly stream: StreamPubSub;
  private readonly unsubscribe: () => void;

  constructor(events: EventsListener) {
    const pubSub = new StreamPubSub(events);
    this.stream = pubSub;
    this.unsubscribe = events.onEvent((event) => {
      // the rows as the triggers announced them: the subscription resolvers answer them as their models
      const { kind, ...row } = event;
      void pubSub.publish(TRIGGERS[kind], { [TRIGGERS[kind]]: row });
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
    this.stream.releaseAll();
  }
}
