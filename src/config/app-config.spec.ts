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

  it('requires DATABASE_URL in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
  });
});
