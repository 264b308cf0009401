import { z } from 'zod';
import { flag, httpUrl, kitSlots, netEndpoints, oneOf, text, wholeNumber } from './env-schema.js';

/**
 * The hub's configuration, read once from the environment and validated at
 * start-up. Nothing else in the code base reads `process.env`.
 */
const environment = z
  .object({
    NODE_ENV: oneOf(['development', 'production', 'test'], 'development'),
    PORT: wholeNumber(4000, 0),
    DATABASE_URL: text().refine((url) => url === undefined || /^postgres(ql)?:\/\//.test(url), {
      error: 'must be a postgres:// or postgresql:// URL',
    }),
    EMBEDDED_PG_DIR: text(),
    EMBEDDED_PG_PORT: wholeNumber(54329, 0),
    NET_ENDPOINTS: netEndpoints(),
    FL_BACKEND: oneOf(['nvflare', 'flower'], 'nvflare'),
    FL_KIT_SLOTS: kitSlots(),
    PICKUP_INTERVAL_MS: wholeNumber(5000, 0),
    PICKUP_FOLLOWER_DELAY_MS: wholeNumber(250, 0),
    NET_LEASE_MS: wholeNumber(120_000, 1),
    DB_POOL_MAX: wholeNumber(10, 2),
    DB_PREPARED_STATEMENTS: flag(),
    RECONCILE_INTERVAL_MS: wholeNumber(15_000, 0),
    RUN_MISSING_GRACE_MS: wholeNumber(60_000, 0),
    NET_CALL_TIMEOUT_MS: wholeNumber(10_000, 1),
    CLIENT_STATUS_INTERVAL_MS: wholeNumber(10_000, 0),
    MAX_START_ATTEMPTS: wholeNumber(3, 1),
    ADMISSION_BACKOFF_MS: wholeNumber(5000, 1),
    ADMISSION_BACKOFF_MAX_MS: wholeNumber(300_000, 1),
    ADMISSION_MAX_WAIT_MS: wholeNumber(21_600_000, 0),
    MAX_RUNTIME_S: wholeNumber(0, 0),
    PRIORITY_AGING_MS: wholeNumber(3_600_000, 0),
    DISPATCH_ORDER: oneOf(['fair', 'fifo'], 'fair'),
    // the secret is never echoed back in a message
    AUTH_JWT_SECRET: text().refine((secret) => secret === undefined || secret.length >= 32, {
      error: 'must be at least 32 characters',
    }),
    AUTH_JWKS_URL: text().pipe(httpUrl().optional()),
    LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error', 'silent'], 'info'),
    GRAPHQL_INTROSPECTION: flag(),
    GRAPHIQL: flag(),
    // default: 2 in development without NET_ENDPOINTS, else 0 (see the transform)
    SIM_NETS: text().refine((value) => value === undefined || /^\d+$/.test(value), { error: 'must be a whole number' }),
    SIM_NET_TRAIN_MS: wholeNumber(10_000, 0),
  })
  .superRefine((env, ctx) => {
    const problem = (variable: keyof typeof env, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
    if (env.NODE_ENV === 'production' && env.DATABASE_URL === undefined) {
      problem('DATABASE_URL', 'is required in production (the embedded PostgreSQL is for development only)');
    }
    if (env.NODE_ENV === 'production' && env.AUTH_JWT_SECRET === undefined && env.AUTH_JWKS_URL === undefined) {
      problem('AUTH_JWT_SECRET', 'or AUTH_JWKS_URL is required in production (every request must carry a verified token)');
    }
    const simNets = Number(env.SIM_NETS ?? 0);
    if (simNets > 0 && env.NODE_ENV === 'production') problem('SIM_NETS', 'must be 0 in production (simulated nets)');
    if (simNets > 20) problem('SIM_NETS', `must be at most 20, got "${simNets}"`);
    if (env.ADMISSION_BACKOFF_MAX_MS < env.ADMISSION_BACKOFF_MS) {
      problem(
        'ADMISSION_BACKOFF_MAX_MS',
        `must be >= ADMISSION_BACKOFF_MS (${env.ADMISSION_BACKOFF_MS}), got "${env.ADMISSION_BACKOFF_MAX_MS}"`,
      );
    }
  })
  .transform((env) => ({
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    /** null: start an embedded PostgreSQL under `embeddedDataDir`. */
    databaseUrl: env.DATABASE_URL ?? null,
    embeddedDataDir: env.EMBEDDED_PG_DIR ?? '.data/postgres',
    /** 0 picks a free port. */
    embeddedPort: env.EMBEDDED_PG_PORT,
    netEndpoints: env.NET_ENDPOINTS,
    flBackend: env.FL_BACKEND,
    kitSlots: env.FL_KIT_SLOTS,
    /** 0 turns every automatic pickup (interval and event-driven) off. */
    pickupIntervalMs: env.PICKUP_INTERVAL_MS,
    /**
     * With several instances, the leader (holder of the dispatch lock)
     * dispatches every change at once; the others claim only if a change is
     * still undispatched this long after its notification (0: every instance at once).
     */
    pickupFollowerDelayMs: env.PICKUP_FOLLOWER_DELAY_MS,
    netLeaseMs: env.NET_LEASE_MS,
    /**
     * connections this instance's pool may open; with several instances, their
     * sum is what the database serves at once (keep it near what its cores can run)
     */
    dbPoolMax: env.DB_POOL_MAX,
    /** the hub's SQL as named prepared statements (off behind a transaction-pooling proxy such as PgBouncer) */
    dbPreparedStatements: env.DB_PREPARED_STATEMENTS ?? true,
    reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
    /** how long a started run may be missing from a net's /list_jobs before it counts as failed */
    runMissingGraceMs: env.RUN_MISSING_GRACE_MS,
    netCallTimeoutMs: env.NET_CALL_TIMEOUT_MS,
    /** how often each net's check_client_status is refreshed in the background (0: never) */
    clientStatusIntervalMs: env.CLIENT_STATUS_INTERVAL_MS,
    maxStartAttempts: env.MAX_START_ATTEMPTS,
    /** first wait before a job (or a failed net) is tried again; it doubles up to `admissionBackoffMaxMs` */
    admissionBackoffMs: env.ADMISSION_BACKOFF_MS,
    admissionBackoffMaxMs: env.ADMISSION_BACKOFF_MAX_MS,
    /** how long a job may wait for offline clients before it is removed (0: at once) */
    admissionMaxWaitMs: env.ADMISSION_MAX_WAIT_MS,
    /** default run-time limit of a job in seconds (0: none) */
    maxRuntimeSeconds: env.MAX_RUNTIME_S,
    /** waiting time that raises a job's priority by one class (0: no aging) */
    priorityAgingMs: env.PRIORITY_AGING_MS,
    /**
     * `fair`: priority with aging, then fair share between projects, then age (SPEC.md "Order");
     * `fifo`: FLIP's order, oldest first (priorities and shares ignored; holds and limits still hold)
     */
    dispatchOrder: env.DISPATCH_ORDER,
    authJwtSecret: env.AUTH_JWT_SECRET ?? null,
    authJwksUrl: env.AUTH_JWKS_URL ?? null,
    logLevel: env.LOG_LEVEL,
    /** schema introspection; default: on outside production */
    graphqlIntrospection: env.GRAPHQL_INTROSPECTION ?? env.NODE_ENV !== 'production',
    /** the GraphiQL page at /graphql; default: on outside production */
    graphiql: env.GRAPHIQL ?? env.NODE_ENV !== 'production',
    /** simulated nets started inside the hub for a first run (sim-net-1…); never in production */
    simNets:
      env.SIM_NETS === undefined
        ? env.NODE_ENV === 'development' && env.NET_ENDPOINTS.length === 0
          ? 2
          : 0
        : Number(env.SIM_NETS),
    /** how long a simulated net trains each run before it reports it FINISHED */
    simNetTrainMs: env.SIM_NET_TRAIN_MS,
  }));

export type AppConfig = Readonly<z.output<typeof environment>>;
export type FlBackendName = AppConfig['flBackend'];

export class ConfigError extends Error {
  constructor(
    /** the first variable at fault */
    readonly variable: string,
    problems: string[],
  ) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = environment.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`);
  throw new ConfigError(String(parsed.error.issues[0]?.path[0]), problems);
}

/** Nest injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
