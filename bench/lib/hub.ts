import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { SignJWT } from 'jose';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createHub } from '../../src/hub.js';
import { GqlClient } from './gql-client.js';

/** The HS256 secret the benchmark's hubs verify tokens with. */
export const BENCH_JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

export async function benchToken(roles: string[] = ['admin']): Promise<string> {
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(BENCH_JWT_SECRET));
}

export interface NetEndpoint {
  name: string;
  endpoint: string;
}

export interface HubOptions {
  nets: readonly NetEndpoint[];
  /** PICKUP_INTERVAL_MS; 0 turns all automatic pickup off. */
  pickupIntervalMs: number;
  /** DB_POOL_MAX (default: the hub's own default) */
  poolMax?: number;
  /** more settings, by their environment names (DISPATCH_ORDER, CLIENT_STATUS_INTERVAL_MS, …) */
  env?: Record<string, string>;
}

export interface BenchHub {
  readonly app: INestApplication;
  readonly config: AppConfig;
  /** http://127.0.0.1:<port>/graphql */
  readonly graphqlUrl: string;
  /** An admin client on a keep-alive agent. */
  readonly gql: GqlClient;
  close(): Promise<void>;
}

/** The settings of a bench hub, by their environment names: NODE_ENV=production, logs silent, reconcile off. */
export function benchHubEnvironment(databaseUrl: string, options: HubOptions, port: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: BENCH_JWT_SECRET,
    NET_ENDPOINTS: JSON.stringify(Object.fromEntries(options.nets.map((n) => [n.name, n.endpoint]))),
    PICKUP_INTERVAL_MS: String(options.pickupIntervalMs),
    RECONCILE_INTERVAL_MS: '0',
    LOG_LEVEL: 'silent',
    ...(options.poolMax === undefined ? {} : { DB_POOL_MAX: String(options.poolMax) }),
    ...options.env,
  };
}

/**
 * A hub in this process, configured the way production reads it (loadConfig
 * over an environment): NODE_ENV=production, logs silent, reconcile off.
 */
export async function startHub(databaseUrl: string, options: HubOptions): Promise<BenchHub> {
  const config = loadConfig(benchHubEnvironment(databaseUrl, options, 0));
  const app = await createHub(config, databaseUrl);
  await app.listen(0, '127.0.0.1');
  const server: Server = app.getHttpServer();
  const { port } = server.address() as AddressInfo;
  const graphqlUrl = `http://127.0.0.1:${port}/graphql`;
  const gql = new GqlClient(graphqlUrl, await benchToken());
  return {
    app,
    config,
    graphqlUrl,
    gql,
    close: async () => {
      gql.close();
      await app.close();
    },
  };
}
