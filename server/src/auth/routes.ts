/** Auth routes: first-run setup, login, logout, the caller's session, password reset. */
import { z } from 'zod';
import { DomainError } from '../core/errors.ts';
import { defineRoute, reply, type AnyRoute } from '../http/route.ts';
import { clearSessionCookies, readSessionCookie, setCsrfCookie, setSessionCookies } from './cookies.ts';
import { limited } from './limited.ts';
import {
  LoginBody, LoginResponseSchema, PasswordResetBody, PasswordResetConfirmBody, SessionSchema, SetupBody, SetupResponseSchema, SetupStatusSchema,
} from './schemas.ts';
import { csrfTokenFor } from './secrets.ts';
import type { AuthService } from './service.ts';

/** authRoutes declares the auth operations over the AuthService. */
export function authRoutes(auth: AuthService): AnyRoute[] {
  const tags = ['auth'];
  return [
    defineRoute({
      operationId: 'getSetupStatus', method: 'get', path: '/api/setup', summary: 'Tell whether first-run setup is open', tags, auth: 'public',
      status: 200, responses: { 200: { description: 'Setup status', schema: SetupStatusSchema } },
      handler: async () => ({ open: await auth.setupOpen() }),
    }),
    defineRoute({
      operationId: 'completeSetup', method: 'post', path: '/api/setup', summary: 'Create the first owner and their first team (only while no user exists)',
      tags, auth: 'public', body: SetupBody, status: 201, errors: [409, 429],
      responses: { 201: { description: 'The first owner is created and logged in', schema: SetupResponseSchema } },
      handler: async ({ body, ctx, ip, requestId }) => {
        const r = await limited(ctx, () => auth.setup(body, { ip, requestId }));
        setSessionCookies(ctx, r.session, auth.cookieSecure);
        return {
          user: r.user, team: { id: r.team.id, slug: r.team.slug, name: r.team.name, role: r.team.role },
          csrfToken: r.session.csrfToken, expiresAt: r.session.expiresAt.toISOString(),
        };
      },
    }),
    defineRoute({
      operationId: 'login', method: 'post', path: '/api/auth/login', summary: 'Log in with email and password (a new session every time)',
      tags, auth: 'public', body: LoginBody, status: 200, errors: [401, 429],
      responses: { 200: { description: 'Logged in; the session and CSRF cookies are set', schema: LoginResponseSchema } },
      handler: async ({ body, ctx, ip, requestId }) => {
        const r = await limited(ctx, () => auth.login(body, { ip, requestId }, readSessionCookie(ctx)));
        setSessionCookies(ctx, r.session, auth.cookieSecure);
        return { user: r.user, csrfToken: r.session.csrfToken, expiresAt: r.session.expiresAt.toISOString() };
      },
    }),
    defineRoute({
      operationId: 'logout', method: 'post', path: '/api/auth/logout', summary: 'Log out: revoke the session and clear its cookies',
      tags, auth: 'user', status: 204, responses: { 204: { description: 'Logged out' } },
      handler: async ({ actor, ctx }) => {
        if (!actor) throw new DomainError('auth/unauthenticated');
        await auth.logout(actor);
        clearSessionCookies(ctx, auth.cookieSecure);
        return undefined;
      },
    }),
    defineRoute({
      operationId: 'getSession', method: 'get', path: '/api/auth/session', summary: 'Describe the caller, their teams and (for cookie sessions) the CSRF token',
      tags, auth: 'user', status: 200, responses: { 200: { description: 'The caller', schema: SessionSchema } },
      handler: async ({ actor, ctx }) => {
        if (!actor) throw new DomainError('auth/unauthenticated');
        const info = await auth.session(actor);
        const secret = typeof ctx.state.sessionSecret === 'string' ? ctx.state.sessionSecret : null;
        const csrfToken = actor.kind === 'session' && secret ? csrfTokenFor(secret) : null;
        const expires = ctx.state.sessionExpiresAt instanceof Date ? ctx.state.sessionExpiresAt : null;
        if (csrfToken && expires) setCsrfCookie(ctx, csrfToken, expires, auth.cookieSecure);
        return { ...info, csrfToken };
      },
    }),
    defineRoute({
      operationId: 'requestPasswordReset', method: 'post', path: '/api/auth/password-reset',
      summary: 'Mail a password reset link (always 202: whether the account exists is not revealed)',
      tags, auth: 'public', body: PasswordResetBody, status: 202, errors: [429],
      responses: { 202: { description: 'If the account exists, a link was sent', schema: z.object({ status: z.literal('accepted') }) } },
      handler: async ({ body, ctx, ip, requestId }) => {
        await limited(ctx, () => auth.requestPasswordReset(body.email, { ip, requestId }));
        return { status: 'accepted' as const };
      },
    }),
    defineRoute({
      operationId: 'confirmPasswordReset', method: 'post', path: '/api/auth/password-reset/confirm',
      summary: 'Set a new password with a reset token (every session of the account is revoked)',
      tags, auth: 'public', body: PasswordResetConfirmBody, status: 204, errors: [429],
      responses: { 204: { description: 'The password is changed' } },
      handler: async ({ body, ctx, ip, requestId }) => {
        await limited(ctx, () => auth.confirmPasswordReset(body, { ip, requestId }));
        return reply(204);
      },
    }),
  ];
}
