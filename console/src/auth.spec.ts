import { describe, expect, it } from '@jest/globals';
import { decodeToken, permissionsOf, tokenFromFragment } from './auth.js';

const base64Url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const jwt = (claims: object) => [base64Url('{"alg":"HS256"}'), base64Url(JSON.stringify(claims)), 'sig'].join('.');

describe('console sign-in', () => {
  it('reads the roles, subject and expiry of a token', () => {
    expect(decodeToken(jwt({ sub: 'ana', roles: ['viewer', 'bogus'], exp: 10 }))).toEqual({
      subject: 'ana',
      roles: ['viewer'],
      expiresAt: 10_000,
    });
    expect(decodeToken(jwt({ sub: 'ünï', roles: 'admin' }))).toEqual({ subject: 'ünï', roles: [], expiresAt: null });
    expect(decodeToken('not-a-jwt')).toBeNull();
    expect(decodeToken('a.%%%.c')).toBeNull();
  });

  it('offers job controls to researchers and admins, deployment mode to admins only', () => {
    const none = { controlJobs: false, deploymentMode: false, manageNets: false, manageTrusts: false, manageProjects: false };
    expect(permissionsOf(['viewer'])).toEqual(none);
    expect(permissionsOf(['net'])).toEqual(none);
    expect(permissionsOf([])).toEqual(none);
    expect(permissionsOf(['researcher'])).toEqual({ ...none, controlJobs: true });
    expect(permissionsOf(['viewer', 'admin'])).toEqual({
      controlJobs: true,
      deploymentMode: true,
      manageNets: true,
      manageTrusts: true,
      manageProjects: true,
    });
  });

  it('takes the token from the URL fragment', () => {
    expect(tokenFromFragment('#token=abc.def.ghi')).toBe('abc.def.ghi');
    expect(tokenFromFragment('#x=1&token=t')).toBe('t');
    expect(tokenFromFragment('#token=')).toBeNull();
    expect(tokenFromFragment('')).toBeNull();
  });
});
