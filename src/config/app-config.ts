/**
 * The hub's configuration, read once from the environment and validated at
 * start-up. Nothing else in the code base reads `process.env`.
 */
export type FlBackendName = 'nvflare' | 'flower';

export interface AppConfig {
  readonly nodeEnv: 'development' | 'production' | 'test';
  readonly port: number;
  /** null: start an embedded PostgreSQL under `embeddedDataDir`. */
  readonly databaseUrl: string | null;
  readonly embeddedDataDir: string;
  /** 0 picks a free port. */
  readonly embeddedPort: number;
  readonly netEndpoints: ReadonlyArray<{ name: string; endpoint: string }>;
  readonly flBackend: FlBackendName;
  readonly kitSlots: readonly string[];
  /** 0 turns every automatic pickup (interval and event-driven) off. */
  readonly pickupIntervalMs: number;
  /**
   * With several instances, the leader (holder of the dispatch lock)
   * dispatches every change at once; the others claim only if a change is
   * still undispatched this long after its notification (0: every instance at once).
   */
  readonly pickupFollowerDelayMs: number;
  readonly netLeaseMs: number;
  /**
   * connections this instance's pool may open; with several instances, their
   * sum is what the database serves at once (keep it near what its cores can run)
   */
  readonly dbPoolMax: number;
  /** the hub's SQL as named prepared statements (off behind a transaction-pooling proxy such as PgBouncer) */
  readonly dbPreparedStatements: boolean;
  readonly reconcileIntervalMs: number;
  /** how long a started run may be missing from a net's /list_jobs before it counts as failed */
  readonly runMissingGraceMs: number;
  readonly netCallTimeoutMs: number;
  /** how often each net's check_client_status is refreshed in the background (0: never) */
  readonly clientStatusIntervalMs: number;
  readonly maxStartAttempts: number;
  readonly authJwtSecret: string | null;
  readonly authJwksUrl: string | null;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** schema introspection; default: on outside production */
  readonly graphqlIntrospection: boolean;
  /** the GraphiQL page at /graphql; default: on outside production */
  readonly graphiql: boolean;
  /** simulated nets started inside the hub for a first run (sim-net-1…); never in production */
  readonly simNets: number;
  /** how long a simulated net trains each run before it reports it FINISHED */
  readonly simNetTrainMs: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(name, `must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase() as T;
  if (!allowed.includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return value;
}

export function parseHttpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `holds "${raw}", which is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `holds "${raw}": only http and https URLs are allowed`);
  }
  return url.toString().replace(/\/+$/, '');
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (/^(true|1|on|yes)$/i.test(raw)) return true;
  if (/^(false|0|off|no)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function netEndpoints(env: Env): AppConfig['netEndpoints'] {
  const raw = text(env, 'NET_ENDPOINTS');
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('NET_ENDPOINTS', 'is not valid JSON (expected an object: net name → base URL)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('NET_ENDPOINTS', 'must be a JSON object: net name → base URL');
  }
  const nets = Object.entries(parsed as Record<string, unknown>).map(([name, url]) => {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 200) {
      throw new ConfigError('NET_ENDPOINTS', `has a net name of ${trimmed.length} characters (1–200 allowed)`);
    }
    if (typeof url !== 'string') throw new ConfigError('NET_ENDPOINTS', `gives net "${name}" a non-string URL`);
    return { name: trimmed, endpoint: parseHttpUrl('NET_ENDPOINTS', url) };
  });
  const endpoints = new Set(nets.map((n) => n.endpoint));
  if (endpoints.size !== nets.length) throw new ConfigError('NET_ENDPOINTS', 'lists the same URL for two nets');
  return nets;
}

function kitSlots(env: Env): string[] {
  const raw = text(env, 'FL_KIT_SLOTS');
  if (raw === undefined) return [];
  const slots = raw.split(',').map((s) => s.trim());
  if (slots.some((s) => s.length < 1 || s.length > 200 || s.includes('\0'))) {
    throw new ConfigError('FL_KIT_SLOTS', 'must be comma-separated names of 1–200 characters');
  }
  if (new Set(slots).size !== slots.length) throw new ConfigError('FL_KIT_SLOTS', 'lists a slot name twice');
  return slots;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const rawDatabaseUrl = text(env, 'DATABASE_URL');
  if (rawDatabaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(rawDatabaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  if (rawDatabaseUrl === undefined && nodeEnv === 'production') {
    throw new ConfigError('DATABASE_URL', 'is required in production (the embedded PostgreSQL is for development only)');
  }
  const jwksUrl = text(env, 'AUTH_JWKS_URL');
  const jwtSecret = text(env, 'AUTH_JWT_SECRET');
  if (nodeEnv === 'production' && jwksUrl === undefined && jwtSecret === undefined) {
    throw new ConfigError(
      'AUTH_JWT_SECRET',
      'or AUTH_JWKS_URL is required in production (every request must carry a verified token)',
    );
  }
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('AUTH_JWT_SECRET', 'must be at least 32 characters');
  }
  const simNets = integer(env, 'SIM_NETS', nodeEnv === 'development' && !text(env, 'NET_ENDPOINTS') ? 2 : 0, 0);
  if (simNets > 0 && nodeEnv === 'production') throw new ConfigError('SIM_NETS', 'must be 0 in production (simulated nets)');
  if (simNets > 20) throw new ConfigError('SIM_NETS', `must be at most 20, got "${simNets}"`);
  return {
    nodeEnv,
    port: integer(env, 'PORT', 4000, 0),
    databaseUrl: rawDatabaseUrl ?? null,
    embeddedDataDir: text(env, 'EMBEDDED_PG_DIR') ?? '.data/postgres',
    embeddedPort: integer(env, 'EMBEDDED_PG_PORT', 54329, 0),
    netEndpoints: netEndpoints(env),
    flBackend: oneOf(env, 'FL_BACKEND', ['nvflare', 'flower'] as const, 'nvflare'),
    kitSlots: kitSlots(env),
    pickupIntervalMs: integer(env, 'PICKUP_INTERVAL_MS', 5000, 0),
    pickupFollowerDelayMs: integer(env, 'PICKUP_FOLLOWER_DELAY_MS', 250, 0),
    netLeaseMs: integer(env, 'NET_LEASE_MS', 120_000, 1),
    dbPoolMax: integer(env, 'DB_POOL_MAX', 10, 2),
    dbPreparedStatements: flag(env, 'DB_PREPARED_STATEMENTS', true),
    reconcileIntervalMs: integer(env, 'RECONCILE_INTERVAL_MS', 15_000, 0),
    runMissingGraceMs: integer(env, 'RUN_MISSING_GRACE_MS', 60_000, 0),
    netCallTimeoutMs: integer(env, 'NET_CALL_TIMEOUT_MS', 10_000, 1),
    clientStatusIntervalMs: integer(env, 'CLIENT_STATUS_INTERVAL_MS', 10_000, 0),
    maxStartAttempts: integer(env, 'MAX_START_ATTEMPTS', 3, 1),
    authJwtSecret: jwtSecret ?? null,
    authJwksUrl: jwksUrl === undefined ? null : parseHttpUrl('AUTH_JWKS_URL', jwksUrl),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    graphqlIntrospection: flag(env, 'GRAPHQL_INTROSPECTION', nodeEnv !== 'production'),
    graphiql: flag(env, 'GRAPHIQL', nodeEnv !== 'production'),
    simNets,
    simNetTrainMs: integer(env, 'SIM_NET_TRAIN_MS', 10_000, 0),
  };
}

/** Nest injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
