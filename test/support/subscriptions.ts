/**
 * GraphQL subscriptions in tests:
 *
 *   const url = await listen(hub);                         // the hub on a port, for WebSocket clients
 *   const jobs = collect<Job>(wsClient(url, token), 'subscription { jobUpdated { id status } }');
 *   await untilSubscribed(hub, 'jobUpdated');             // registered on the hub: it misses nothing from now on
 *   …; await jobs.until((job) => job.status === 'COMPLETED');
 *
 * Dispose the clients in afterAll.
 */

import { createClient, type Client } from 'graphql-ws';
import type { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { EventsListener } from '../../src/events/events.listener.js';
import { LiveUpdates } from '../../src/events/live-updates.js';
import type { TestHub } from './hub.js';
import { until } from './wait.js';

/** Listens on an ephemeral port of 127.0.0.1 and answers the hub's http URL. */
export async function listen(hub: TestHub): Promise<string> {
  await hub.app.listen(0, '127.0.0.1');
  return (await hub.app.getUrl()).replace('[::1]', '127.0.0.1');
}

/**
 * Waits until `count` subscriptions to `trigger` are registered on the hub and it hears the change stream:
 * every change committed from then on reaches them. (Reads the PubSub's emitter: graphql-ws does not
 * acknowledge a subscription.)
 */
export async function untilSubscribed(
  hub: TestHub,
  trigger: 'jobUpdated' | 'schedulerUpdated' | 'trustUpdated' | 'projectUpdated',
  count = 1,
): Promise<void> {
  const emitter = (hub.app.get(LiveUpdates).pubSub as unknown as { ee: EventEmitter }).ee;
  const events = hub.app.get(EventsListener);
  await until(() => emitter.listenerCount(trigger) >= count && events.streaming, {
    what: `${count} subscription(s) to ${trigger} registered`,
  });
}

/** A graphql-ws client for a listening test hub; the token goes in connection_init. */
export function wsClient(baseUrl: string, token: string | null): Client {
  return createClient({
    url: baseUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

export interface Collected<T> {
  /** every `data` received, in order */
  readonly seen: T[];
  readonly errors: unknown[];
  /** resolves once a received item satisfies `done` (also one received before the call); rejects after `timeoutMs` */
  until(done: (item: T) => boolean, timeoutMs?: number): Promise<void>;
}

/** Subscribes and collects every message's data (its root field's value). */
export function collect<T>(client: Client, query: string, variables?: Record<string, unknown>): Collected<T> {
  const seen: T[] = [];
  const errors: unknown[] = [];
  const waiters: Array<{ done: (item: T) => boolean; resolve: () => void }> = [];
  client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (message) => {
        if (message.errors) errors.push(message.errors);
        if (!message.data) return;
        const item = Object.values(message.data)[0];
        seen.push(item);
        for (const waiter of [...waiters]) {
          if (waiter.done(item)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return {
    seen,
    errors,
    until: (done, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        if (seen.some(done)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ done, resolve: () => (clearTimeout(timer), resolve()) });
      }),
  };
}
