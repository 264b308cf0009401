import { describe, expect, it } from '@jest/globals';
import { CoalescedRead } from './coalesced-read.js';

describe('CoalescedRead', () => {
  it('shares one load among the callers of one turn, and starts a new one for callers after it was sent', async () => {
    let loads = 0;
    const release: Array<() => void> = [];
    const shared = new CoalescedRead(async () => {
      const n = ++loads;
      await new Promise<void>((resolve) => release.push(resolve));
      return n;
    });
    const first = [shared.read(), shared.read(), shared.read()];
    await new Promise((resolve) => setImmediate(resolve));
    expect(loads).toBe(1);
    // asked while the first load is in flight: must not get its (older) answer
    const later = shared.read();
    await new Promise((resolve) => setImmediate(resolve));
    expect(loads).toBe(2);
    release.forEach((r) => r());
    expect(await Promise.all(first)).toEqual([1, 1, 1]);
    expect(await later).toBe(2);
  });

  it('hands a failed load to every caller that joined it, and the next caller loads again', async () => {
    let fail = true;
    const shared = new CoalescedRead(() => (fail ? Promise.reject(new Error('database gone')) : Promise.resolve('ok')));
    const results = await Promise.allSettled([shared.read(), shared.read()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(shared.read()).resolves.toBe('ok');
  });
});
