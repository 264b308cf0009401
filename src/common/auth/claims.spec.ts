import { describe, expect, it } from '@jest/globals';
import { principalFromClaims } from './claims.js';
import { NetScope, ProjectScope } from './scopes.js';

const P1 = '3f2c1a4e-0b1d-4c6e-8f00-000000000001';
const P2 = '3F2C1A4E-0B1D-4C6E-8F00-000000000002';

describe('token claims', () => {
  it('reads roles, net and projects (ids lower-cased, duplicates dropped); absent claims grant nothing', () => {
    expect(principalFromClaims({ sub: 'r', roles: ['researcher', 'root'], projects: [P1, P2, P2.toLowerCase()] })).toEqual({
      subject: 'r',
      roles: ['researcher'],
      net: null,
      projects: [P1, P2.toLowerCase()],
    });
    expect(principalFromClaims({ roles: ['net'], net: ' net-1 ' })).toEqual({
      subject: 'unknown',
      roles: ['net'],
      net: 'net-1',
      projects: [],
    });
  });

  it.each([
    ['projects as a string', { projects: P1 }],
    ['projects with a number', { projects: [P1, 7] }],
    ['projects with a non-UUID', { projects: ['chest-xray'] }],
    ['projects as null', { projects: null }],
    ['net as a list', { net: ['net-1'] }],
    ['net blank', { net: '' }],
  ])('a malformed claim makes the token invalid: %s', (_label, claims) => {
    expect(() => principalFromClaims({ roles: ['researcher', 'net'], ...claims })).toThrow(
      expect.objectContaining({ code: 'UNAUTHENTICATED' }),
    );
  });
});

describe('scopes', () => {
  const principal = (roles: string[], extra: { net?: string; projects?: string[] } = {}) =>
    principalFromClaims({ roles, ...extra });

  it.each([
    [['admin'], true, true],
    [['viewer'], true, false],
    [['viewer', 'researcher'], true, false],
    [['researcher'], false, false],
    [['net'], false, false],
    [[], false, false],
  ])('%j: reads every project %s, acts on every project %s', (roles, readsAll, actsOnAll) => {
    const p = principal(roles, { projects: [P1] });
    expect(ProjectScope.forReading(p).unrestricted).toBe(readsAll);
    expect(ProjectScope.forActing(p).unrestricted).toBe(actsOnAll);
    const researcher = roles.includes('researcher');
    expect(ProjectScope.forActing(p).includes(P1)).toBe(actsOnAll || researcher);
    expect(ProjectScope.forReading(p).includes(P2)).toBe(readsAll);
  });

  it('a researcher scope holds its projects only, and FORBIDS the others', () => {
    const scope = ProjectScope.forActing(principal(['researcher'], { projects: [P1] }));
    expect(scope.includes(P1.toUpperCase())).toBe(true);
    expect(() => scope.assertIncludes(P2, 'model m')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(scope.projectIds).toEqual([P1]);
  });

  it.each([
    [['admin'], undefined, { any: true, net: null }],
    [['net'], 'net-1', { any: false, net: 'net-1' }],
    [['net'], undefined, { any: false, net: null }],
    [['researcher'], 'net-1', { any: false, net: null }],
    [['net', 'researcher'], 'net-2', { any: false, net: 'net-2' }],
  ])('%j with net claim %s reports on %j', (roles, net, expected) => {
    const scope = NetScope.of(principal(roles, net ? { net } : {}));
    expect({ any: scope.any, net: scope.net }).toEqual(expected);
  });
});
