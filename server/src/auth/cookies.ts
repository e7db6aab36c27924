/**
 * Cookies: `drover_session` (HttpOnly) carries the session ID, `drover_csrf` (readable by the dashboard's scripts)
 * the CSRF token. Both are SameSite=Lax, Path=/, and Secure when the public URL is https. Headers are written by
 * hand, so Koa's "secure cookie over plain HTTP" refusal behind a TLS-terminating proxy does not apply.
 */
import type { Context } from 'koa';

/** SESSION_COOKIE is the session cookie's name. */
export const SESSION_COOKIE = 'drover_session';
/** CSRF_COOKIE is the CSRF cookie's name. */
export const CSRF_COOKIE = 'drover_csrf';
/** CSRF_HEADER is the header cookie-authenticated mutations must carry. */
export const CSRF_HEADER = 'x-csrf-token';

function cookie(name: string, value: string, expires: Date, httpOnly: boolean, secure: boolean): string {
  return [
    `${name}=${value}`, 'Path=/', `Expires=${expires.toUTCString()}`, 'SameSite=Lax',
    ...(httpOnly ? ['HttpOnly'] : []), ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** setSessionCookies sets both cookies for a new session. */
export function setSessionCookies(ctx: Context, s: { secret: string; csrfToken: string; expiresAt: Date }, secure: boolean): void {
  ctx.append('Set-Cookie', cookie(SESSION_COOKIE, s.secret, s.expiresAt, true, secure));
  ctx.append('Set-Cookie', cookie(CSRF_COOKIE, s.csrfToken, s.expiresAt, false, secure));
}

/** setCsrfCookie (re)sets the CSRF cookie alone. */
export function setCsrfCookie(ctx: Context, csrfToken: string, expiresAt: Date, secure: boolean): void {
  ctx.append('Set-Cookie', cookie(CSRF_COOKIE, csrfToken, expiresAt, false, secure));
}

/** clearSessionCookies expires both cookies. */
export function clearSessionCookies(ctx: Context, secure: boolean): void {
  const past = new Date(0);
  ctx.append('Set-Cookie', cookie(SESSION_COOKIE, '', past, true, secure));
  ctx.append('Set-Cookie', cookie(CSRF_COOKIE, '', past, false, secure));
}

/** readSessionCookie returns the session cookie's value, if any. */
export function readSessionCookie(ctx: Context): string | undefined {
  return ctx.cookies.get(SESSION_COOKIE) || undefined;
}
