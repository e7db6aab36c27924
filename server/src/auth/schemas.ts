/** Auth request and response schemas: setup, login, session, password reset. */
import { z } from 'zod';
import { displayNameSchema, slugSchema } from '../core/slugs.ts';
import { emailSchema, passwordSchema, personNameSchema } from '../users/email.ts';
import { UserSchema } from '../users/schemas.ts';

/** SetupStatusSchema says whether first-run setup is open. */
export const SetupStatusSchema = z.object({ open: z.boolean() }).meta({ id: 'SetupStatus' });

/** SetupBody creates the first owner and their first team. */
export const SetupBody = z
  .object({ email: emailSchema, name: personNameSchema, password: passwordSchema, teamName: displayNameSchema, teamSlug: slugSchema.optional() })
  .strict()
  .meta({ id: 'SetupRequest' });

/** LoginBody is an email and password (the password is only checked for length here). */
export const LoginBody = z
  .object({ email: emailSchema, password: z.string().min(1).max(256) })
  .strict()
  .meta({ id: 'LoginRequest' });

/** TeamRefSchema names a team and the caller's role in it. */
export const TeamRefSchema = z
  .object({ id: z.uuid(), slug: z.string(), name: z.string(), role: z.enum(['owner', 'admin', 'member', 'viewer']) })
  .meta({ id: 'TeamRef' });

/** LoginResponseSchema is the new session's user, CSRF token (also set in the drover_csrf cookie) and expiry. */
export const LoginResponseSchema = z
  .object({ user: UserSchema, csrfToken: z.string(), expiresAt: z.string() })
  .meta({ id: 'LoginResponse' });

/** SetupResponseSchema is the first owner's session and their first team. */
export const SetupResponseSchema = z
  .object({ user: UserSchema, team: TeamRefSchema, csrfToken: z.string(), expiresAt: z.string() })
  .meta({ id: 'SetupResponse' });

/** SessionSchema describes the caller; csrfToken is set for cookie sessions only. */
export const SessionSchema = z
  .object({
    user: UserSchema,
    kind: z.enum(['session', 'token']),
    scopes: z.array(z.enum(['read', 'deploy', 'admin'])),
    csrfToken: z.string().nullable(),
    teams: z.array(TeamRefSchema),
  })
  .meta({ id: 'Session' });

/** PasswordResetBody asks for a reset link. */
export const PasswordResetBody = z.object({ email: emailSchema }).strict().meta({ id: 'PasswordResetRequest' });

/** PasswordResetConfirmBody sets a new password with a reset token. */
export const PasswordResetConfirmBody = z
  .object({ token: z.string().min(1).max(200), password: passwordSchema })
  .strict()
  .meta({ id: 'PasswordResetConfirmRequest' });
