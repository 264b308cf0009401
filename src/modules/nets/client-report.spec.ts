import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/app-config.js';
import { FLOWER_POLICY, NVFLARE_POLICY } from '../../fl-backends/backend-policy.js';
import { parseConnectTime, toClientRecords } from './client-report.js';

describe('toClientRecords', () => {
  it.each([
    ['NVFLARE', NVFLARE_POLICY, 'ok', 'no_reply'],
    ['Flower', FLOWER_POLICY, 'CONNECTED', 'DISCONNECTED'],
  ])('%s: online unless the backend says offline', (_name, policy, online, offline) => {
    const records = toClientRecords(policy, [
      { name: 'site-1', status: online, last_connect_time: '2026-12-01T10:00:00.000Z' },
      { name: 'site-2', status: offline },
    ]);
    expect(records).toEqual([
      { name: 'site-1', online: true, lastConnect: new Date('2026-12-01T10:00:00.000Z') },
      { name: 'site-2', online: false, lastConnect: null },
    ]);
  });

  it('keeps one record per name: online if any entry is, with the latest connect time', () => {
    const records = toClientRecords(NVFLARE_POLICY, [
      { name: 'site-1', status: 'no_reply', last_connect_time: 1_764_583_200 },
      { name: 'site-1', status: 'ok', last_connect_time: 1_764_583_100 },
    ]);
    expect(records).toEqual([{ name: 'site-1', online: true, lastConnect: new Date(1_764_583_200_000) }]);
  });
});

describe('parseConnectTime', () => {
  it.each([
    [1_764_583_200.5, new Date(1_764_583_200_500)], // seconds (NVFLARE's time.time())
    ['1764583200', new Date(1_764_583_200_000)],
    [1_764_583_200_500, new Date(1_764_583_200_500)], // milliseconds
    ['2026-12-01T10:00:00Z', new Date('2026-12-01T10:00:00Z')],
  ])('reads %p', (value, expected) => {
    expect(parseConnectTime(value)).toEqual(expected);
  });

  it.each([undefined, null, '', 'yesterday', 0, -5])('treats %p as unknown', (value) => {
    expect(parseConnectTime(value)).toBeNull();
  });
});

describe('CLIENT_STATUS_INTERVAL_MS', () => {
  it('defaults to 10 s, 0 turns the refresh off, anything else is refused', () => {
    expect(loadConfig({}).clientStatusIntervalMs).toBe(10_000);
    expect(loadConfig({ CLIENT_STATUS_INTERVAL_MS: '0' }).clientStatusIntervalMs).toBe(0);
    expect(() => loadConfig({ CLIENT_STATUS_INTERVAL_MS: '-1' })).toThrow(/CLIENT_STATUS_INTERVAL_MS/);
    expect(() => loadConfig({ CLIENT_STATUS_INTERVAL_MS: 'often' })).toThrow(/CLIENT_STATUS_INTERVAL_MS/);
  });
});
