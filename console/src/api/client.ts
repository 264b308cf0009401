import { createClient, type Client } from 'graphql-ws';

/** A GraphQL error in words: the hub's message and its `extensions.code`. */
export class GqlError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'GqlError';
  }

  /** e.g. "no job with id … (NOT_FOUND)" */
  get words(): string {
    return `${this.message} (${this.code})`;
  }
}

interface GqlAnswer<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

function firstError(errors: GqlAnswer<unknown>['errors']): GqlError | null {
  const first = errors?.[0];
  return first ? new GqlError(first.message, first.extensions?.code ?? 'ERROR') : null;
}

export interface HubClient {
  /** a query or mutation over HTTP POST /graphql; throws GqlError */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** a subscription over graphql-ws; returns its unsubscribe */
  subscribe<T>(query: string, onData: (data: T) => void, onError: (error: GqlError) => void): () => void;
  close(): void;
}

export interface ConnectionEvents {
  /** the socket is up; `again` after a drop (the page takes a fresh snapshot then) */
  connected(again: boolean): void;
  closed(): void;
}

/** Talks only to the hub the page came from: POST /graphql and ws(s)://<same host>/graphql. */
export function connectToHub(token: string, events: ConnectionEvents): HubClient {
  const authorization = `Bearer ${token}`;
  const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
  const ws: Client = createClient({
    url: wsUrl,
    connectionParams: { authorization },
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      connected: (_socket, _payload, wasRetry) => events.connected(wasRetry),
      closed: () => events.closed(),
    },
  });

  return {
    async request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
      let response: Response;
      try {
        response = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query, variables }),
        });
      } catch (error) {
        throw new GqlError(`the hub did not answer: ${error instanceof Error ? error.message : String(error)}`, 'NETWORK');
      }
      let answer: GqlAnswer<T>;
      try {
        answer = (await response.json()) as GqlAnswer<T>;
      } catch {
        throw new GqlError(`the hub answered HTTP ${response.status} without GraphQL`, 'NETWORK');
      }
      const error = firstError(answer.errors);
      if (error) throw error;
      if (!answer.data) throw new GqlError('the hub answered without data', 'ERROR');
      return answer.data;
    },

    subscribe<T>(query: string, onData: (data: T) => void, onError: (error: GqlError) => void): () => void {
      return ws.subscribe<T>(
        { query },
        {
          next: (answer) => {
            const error = firstError(answer.errors as GqlAnswer<unknown>['errors']);
            if (error) onError(error);
            else if (answer.data) onData(answer.data);
          },
          error: (error: unknown) => {
            const message = Array.isArray(error) ? firstError(error as GqlAnswer<unknown>['errors']) : null;
            onError(message ?? new GqlError(`the live connection failed: ${describe(error)}`, 'NETWORK'));
          },
          complete: () => undefined,
        },
      );
    },

    close: () => void ws.dispose(),
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof CloseEvent !== 'undefined' && error instanceof CloseEvent) return `closed (${error.code}) ${error.reason}`;
  return String(error);
}
