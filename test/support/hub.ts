import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createHub } from '../../src/hub.js';

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; [key: string]: unknown } }>;
}

export interface TestHub {
  app: INestApplication;
  config: AppConfig;
  /** POST /graphql over supertest. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>>;
  /** Like gql, but fails the test on any GraphQL error. */
  gqlOk<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A whole hub on a test database. Automatic pickup and reconcile are off
 * unless asked for, so tests drive cycles explicitly.
 */
export async function startTestHub(databaseUrl: string, overrides: Partial<AppConfig> = {}): Promise<TestHub> {
  const config: AppConfig = {
    ...loadConfig({}),
    nodeEnv: 'test',
    pickupIntervalMs: 0,
    reconcileIntervalMs: 0,
    netCallTimeoutMs: 2000,
    logLevel: 'silent',
    ...overrides,
  };
  const app = await createHub(config, databaseUrl);
  const server = app.getHttpServer();
  const gql: TestHub['gql'] = async (query, variables) => {
    const response = await request(server).post('/graphql').set('content-type', 'application/json').send({ query, variables });
    return { status: response.status, data: response.body.data, errors: response.body.errors };
  };
  return {
    app,
    config,
    gql,
    gqlOk: async (query, variables) => {
      const response = await gql(query, variables);
      if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
      return response.data as never;
    },
    close: () => app.close(),
  };
}
