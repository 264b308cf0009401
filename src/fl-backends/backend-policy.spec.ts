import { describe, expect, it } from '@jest/globals';
import { checkClients, FLOWER_POLICY, NVFLARE_POLICY, policyFor } from './backend-policy.js';
import { FlBackend } from './fl-backend.enum.js';

describe('backend policies', () => {
  it('picks one policy per backend', () => {
    expect(policyFor(FlBackend.NVFLARE)).toBe(NVFLARE_POLICY);
    expect(policyFor(FlBackend.FLOWER)).toBe(FLOWER_POLICY);
  });

  it('NVFLARE: a no_reply client blocks the start', () => {
    const check = checkClients(
      NVFLARE_POLICY,
      ['a', 'b'],
      [
        { name: 'a', status: 'ok' },
        { name: 'b', status: 'no_reply' },
      ],
    );
    expect(check).toEqual({ offline: ['b'], blocksStart: true });
  });

  it('NVFLARE: a client the net does not list counts as offline', () => {
    expect(checkClients(NVFLARE_POLICY, ['a', 'c'], [{ name: 'a', status: 'ok' }])).toEqual({
      offline: ['c'],
      blocksStart: true,
    });
  });

  it('Flower: a DISCONNECTED client is reported but does not block', () => {
    const check = checkClients(
      FLOWER_POLICY,
      ['a', 'b'],
      [
        { name: 'a', status: 'CONNECTED' },
        { name: 'b', status: 'DISCONNECTED' },
      ],
    );
    expect(check).toEqual({ offline: ['b'], blocksStart: false });
  });

  it('all online: nothing offline, nothing blocks', () => {
    expect(
      checkClients(
        NVFLARE_POLICY,
        ['a'],
        [
          { name: 'a', status: 'ok' },
          { name: 'z', status: 'no_reply' },
        ],
      ),
    ).toEqual({
      offline: [],
      blocksStart: false,
    });
  });
});
