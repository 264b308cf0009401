import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DomainError } from '../errors.js';
import { principalFromClaims } from './claims.js';
import type { Principal } from './roles.js';

const MAX_CACHED_TOKENS = 1_000;

const unauthenticated = (message: string) => new DomainError('UNAUTHENTICATED', message);

/**
 * Verifies bearer JWTs: HS256 with AUTH_JWT_SECRET, or RS256 against
 * AUTH_JWKS_URL (keys fetched, cached and refreshed on rotation by jose). In
 * development without either, a random secret is made at start-up and an
 * admin token printed, so GraphiQL stays one paste away.
 */
@Injectable()
export class TokenVerifier {
  private readonly logger = new Logger('Auth');
  private readonly secret: KeyObject | null;
  /** token → principal until the token expires: a verified token is not verified again on every request */
  private readonly verified = new Map<string, { principal: Principal; expiresAt: number }>();
  private readonly jwks: JWTVerifyGetKey | null;
  private readonly generated: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.jwks = config.authJwksUrl ? createRemoteJWKSet(new URL(config.authJwksUrl)) : null;
    this.generated = !config.authJwtSecret && !config.authJwksUrl;
    const secret = config.authJwtSecret ?? (this.generated ? randomBytes(32).toString('base64url') : null);
    this.secret = secret ? createSecretKey(Buffer.from(secret, 'utf8')) : null;
  }

  /** In development with no auth configured: a token for the GraphiQL user. */
  async developmentAdminToken(): Promise<string | null> {
    if (!this.generated || !this.secret) return null;
    return new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('dev-admin')
      .setIssuedAt()
      .setExpirationTime('12h')
      .sign(this.secret);
  }

  async verify(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw unauthenticated('missing bearer token (Authorization: Bearer <jwt>)');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw unauthenticated('the Authorization header must be "Bearer <jwt>"');
    const cached = this.verified.get(match[1]);
    if (cached && cached.expiresAt > Date.now()) return cached.principal;
    const { principal, expiresAt } = await this.verifyToken(match[1]);
    if (this.verified.size >= MAX_CACHED_TOKENS) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(match[1], { principal, expiresAt });
    return principal;
  }

  private async verifyToken(token: string): Promise<{ principal: Principal; expiresAt: number }> {
    let payload: JWTPayload;
    try {
      payload = this.jwks
        ? (await jwtVerify(token, this.jwks, { algorithms: ['RS256'] })).payload
        : (await jwtVerify(token, this.secret as KeyObject, { algorithms: ['HS256'] })).payload;
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_JWT_INVALID';
      this.logger.debug(`token refused: ${code}`);
      throw unauthenticated(code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid');
    }
    const principal = principalFromClaims(payload);
    // cached at most until the token expires, and never longer than a minute (JWKS rotation, clock checks)
    const expiresAt = Math.min(typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity, Date.now() + 60_000);
    return { principal, expiresAt };
  }
}
