/**
 * The HTTP authenticator handed to buildHttpApp: `Authorization: Bearer drv_…` (an API token, no CSRF) or the
 * `drover_session` cookie. A cookie-authenticated request with any method other than GET/HEAD/OPTIONS must carry
 * `X-CSRF-Token` equal to the session's CSRF token, else 403 `auth/csrf`. A malformed or unknown bearer token is 401;
 * an unknown or expired session cookie simply authenticates no one, and other Authorization schemes (a proxy's Basic
 * auth) are left alone.
 */
import type { Context } from 'koa';
import { Scopes, type Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import type { Authenticate } from '../http/koa.ts';
import type { TokenService } from '../tokens/service.ts';
import { CSRF_HEADER, readSessionCookie } from './cookies.ts';
import { csrfTokenFor, safeEqual } from './secrets.ts';
import type { SessionStore } from './sessions.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** createAuthenticator builds the Authenticate function over the session store and the token service. */
export function createAuthenticator(deps: { sessions: SessionStore; tokens: TokenService }): Authenticate {
  return async (ctx: Context, requestId: string): Promise<Actor | null> => {
    const header = ctx.get('authorization');
    if (/^Bearer(\s|$)/i.test(header)) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m?.[1]) throw new DomainError('auth/unauthenticated', 'The Authorization header must be "Bearer <API token>"');
      const id = await deps.tokens.authenticate(m[1]);
      if (!id) throw new DomainError('auth/unauthenticated', 'The API token is unknown, revoked or expired');
      return { kind: 'token', userId: id.userId, tokenId: id.id, scopes: id.scopes, ip: ctx.ip, requestId };
    }
    const secret = readSessionCookie(ctx);
    if (!secret) return null;
    const s = await deps.sessions.find(secret);
    if (!s) return null;
    if (!SAFE_METHODS.has(ctx.method)) {
      const sent = ctx.get(CSRF_HEADER);
      if (!sent || !safeEqual(sent, csrfTokenFor(secret))) throw new DomainError('auth/csrf');
    }
    ctx.state.sessionSecret = secret;
    ctx.state.sessionExpiresAt = s.expiresAt;
    return { kind: 'session', userId: s.userId, sessionId: s.id, scopes: [...Scopes], ip: ctx.ip, requestId };
  };
}
