import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

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
    until: (done, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (seen.some(done)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ done, resolve: () => (clearTimeout(timer), resolve()) });
      }),
  };
}
