import { describe, expect, it } from '@jest/globals';
import { DomainError } from '../../../common/errors.js';
import { isTransientDatabaseError, retryOnDatabaseError } from './database-retry.js';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('retrying a start write', () => {
  it('counts a lost or refused connection, a server shutting down, a serialization failure and a deadlock as transient', () => {
    for (const code of ['08006', '08003', '57P01', '57P03', '53300', '40001', '40P01']) {
      expect(isTransientDatabaseError(pgError(code))).toBe(true);
    }
    expect(isTransientDatabaseError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientDatabaseError({ cause: { code: '08006' } })).toBe(true);
  });

  it('does not count a refused statement, a domain error or a programming error', () => {
    for (const code of ['23505', '23514', '42601', '42P01', '22P02']) expect(isTransientDatabaseError(pgError(code))).toBe(false);
    expect(isTransientDatabaseError(new DomainError('CONFLICT', 'lost'))).toBe(false);
    expect(isTransientDatabaseError(new TypeError('x is undefined'))).toBe(false);
  });

  it('tries a transient failure again until it succeeds, and lets a refused statement stand at once', async () => {
    let calls = 0;
    await expect(
      retryOnDatabaseError(Date.now() + 10_000, () => {
        calls += 1;
        return calls < 3 ? Promise.reject(pgError('08006')) : Promise.resolve('written');
      }),
    ).resolves.toBe('written');
    expect(calls).toBe(3);

    calls = 0;
    await expect(
      retryOnDatabaseError(Date.now() + 10_000, () => {
        calls += 1;
        return Promise.reject(pgError('23505'));
      }),
    ).rejects.toThrow('pg 23505');
    expect(calls).toBe(1);
  });
});
