import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: null,
      netEndpoints: [],
      flBackend: 'nvflare',
      kitSlots: [],
      pickupIntervalMs: 5000,
      pickupFollowerDelayMs: 250,
      dbPreparedStatements: true,
      netLeaseMs: 120000,
      nodeEnv: 'development',
    });
  });

  it('parses nets, slots and backend', () => {
    const config = loadConfig({
      NET_ENDPOINTS: '{"net-1":"http://10.0.0.1:8000/","net-2":"https://fl.example.org/api"}',
      FL_KIT_SLOTS: 'site-1, site-2',
      FL_BACKEND: 'FLOWER',
    });
    expect(config.netEndpoints).toEqual([
      { name: 'net-1', endpoint: 'http://10.0.0.1:8000' },
      { name: 'net-2', endpoint: 'https://fl.example.org/api' },
    ]);
    expect(config.kitSlots).toEqual(['site-1', 'site-2']);
    expect(config.flBackend).toBe('flower');
  });

  it.each([
    ['NET_ENDPOINTS', '{not json'],
    ['NET_ENDPOINTS', '["http://a"]'],
    ['NET_ENDPOINTS', '{"a":"not a url"}'],
    ['NET_ENDPOINTS', '{"a":"ftp://host"}'],
    ['NET_ENDPOINTS', '{"a":"http://h:1","b":"http://h:1"}'],
    ['FL_BACKEND', 'tensorflow'],
    ['FL_KIT_SLOTS', 'a,,b'],
    ['FL_KIT_SLOTS', 'a,a'],
    ['PICKUP_INTERVAL_MS', '-5'],
    ['PICKUP_INTERVAL_MS', 'soon'],
    ['PICKUP_FOLLOWER_DELAY_MS', '-1'],
    ['DB_PREPARED_STATEMENTS', 'maybe'],
    ['DB_POOL_MAX', '1'],
    ['DB_POOL_MAX', 'many'],
    ['NET_LEASE_MS', '0'],
    ['PORT', '4000x'],
    ['DATABASE_URL', 'mysql://x'],
    ['NODE_ENV', 'staging'],
    ['PORT', '99999999999999999999'],
    ['AUTH_JWKS_URL', 'ftp://idp/jwks'],
    ['MAX_START_ATTEMPTS', '0'],
    ['ADMISSION_BACKOFF_MS', '0'],
    ['ADMISSION_BACKOFF_MS', '5s'],
    ['ADMISSION_BACKOFF_MAX_MS', '-1'],
    ['ADMISSION_BACKOFF_MAX_MS', '4999'],
    ['ADMISSION_MAX_WAIT_MS', '-1'],
    ['MAX_RUNTIME_S', '1.5'],
    ['PRIORITY_AGING_MS', 'hourly'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as ConfigError).message).toContain(variable);
  });

  it('turns prepared statements off for a pooling proxy, and the follower delay off with 0', () => {
    const config = loadConfig({ DB_PREPARED_STATEMENTS: 'false', PICKUP_FOLLOWER_DELAY_MS: '0' });
    expect(config.dbPreparedStatements).toBe(false);
    expect(config.pickupFollowerDelayMs).toBe(0);
  });

  it('sizes the connection pool: 10 by default, as configured otherwise', () => {
    expect(loadConfig({}).dbPoolMax).toBe(10);
    expect(loadConfig({ DB_POOL_MAX: '4' }).dbPoolMax).toBe(4);
  });

  it('reads the Version 2 settings with their defaults', () => {
    expect(loadConfig({})).toMatchObject({
      maxStartAttempts: 3,
      admissionBackoffMs: 5000,
      admissionBackoffMaxMs: 300_000,
      admissionMaxWaitMs: 21_600_000,
      maxRuntimeSeconds: 0,
      priorityAgingMs: 3_600_000,
      dispatchOrder: 'fair',
    });
    expect(loadConfig({ DISPATCH_ORDER: 'fifo' }).dispatchOrder).toBe('fifo');
    expect(() => loadConfig({ DISPATCH_ORDER: 'random' })).toThrow('DISPATCH_ORDER');
  });

  it("takes 0 where it means 'at once', 'none' or 'no aging', and FLIP's fail-fast settings", () => {
    const config = loadConfig({
      ADMISSION_MAX_WAIT_MS: '0',
      MAX_RUNTIME_S: '0',
      PRIORITY_AGING_MS: '0',
      MAX_START_ATTEMPTS: '1',
      ADMISSION_BACKOFF_MS: '1000',
      ADMISSION_BACKOFF_MAX_MS: '1000',
    });
    expect(config).toMatchObject({
      admissionMaxWaitMs: 0,
      maxRuntimeSeconds: 0,
      priorityAgingMs: 0,
      maxStartAttempts: 1,
      admissionBackoffMs: 1000,
      admissionBackoffMaxMs: 1000,
    });
    expect(loadConfig({ MAX_RUNTIME_S: '7200' }).maxRuntimeSeconds).toBe(7200);
  });

  it('refuses a longest backoff below the first one, naming both', () => {
    expect(() => loadConfig({ ADMISSION_BACKOFF_MS: '60000', ADMISSION_BACKOFF_MAX_MS: '30000' })).toThrow(
      'ADMISSION_BACKOFF_MAX_MS must be >= ADMISSION_BACKOFF_MS (60000), got "30000"',
    );
  });

  it('names every variable at fault at once, and never echoes the JWT secret', () => {
    let thrown: unknown;
    try {
      loadConfig({ PORT: 'x', NET_LEASE_MS: '0', AUTH_JWT_SECRET: 'too-short-secret' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe('PORT');
    expect((thrown as ConfigError).message).toBe(
      'Invalid configuration: PORT must be a whole number, got "x"; NET_LEASE_MS must be an integer >= 1, got "0"; ' +
        'AUTH_JWT_SECRET must be at least 32 characters',
    );
  });

  it('treats a blank variable as unset and trims values', () => {
    const config = loadConfig({ PORT: ' ', FL_BACKEND: ' Flower ', GRAPHIQL: 'OFF', AUTH_JWKS_URL: 'https://idp/jwks/' });
    expect(config).toMatchObject({ port: 4000, flBackend: 'flower', graphiql: false, authJwksUrl: 'https://idp/jwks' });
  });

  it('requires DATABASE_URL in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
  });
});
