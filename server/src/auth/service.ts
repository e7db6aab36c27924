/**
 * AuthService: first-run setup, login/logout, the caller's session, and password reset. Setup opens only while no
 * user exists (checked under a transaction-scoped advisory lock, so two racing setups cannot both win). Login
 * rotates: a new session ID every time, and the session of the cookie the request carried is revoked. Unknown emails
 * cost the same argon2id work as wrong passwords. Reset links are built from the configured public URL only.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Scopes, type Actor, type Role } from '../core/actor.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/errors.ts';
import type { Team, TeamService } from '../teams/service.ts';
import { burnPasswordCheck, hashPassword, verifyPassword, type Argon2Costs } from '../users/password.ts';
import { findUserByEmail, findUserById, insertUser, publicUser, type PublicUser } from '../users/service.ts';
import type { Mailer } from './mailer.ts';
import type { RateLimiter } from './rate-limit.ts';
import { randomSecret, SECRET_SHAPE, sha256Hex } from './secrets.ts';
import type { IssuedSession, SessionStore } from './sessions.ts';

/** RESET_TTL_MS is how long a password reset link works: one hour. */
export const RESET_TTL_MS = 3600_000;

const SETUP_LOCK = 0x64726f76; // "drov"

/** RequestMeta is what services know about the request: the client address and the request ID. */
export interface RequestMeta {
  /** ip is the client address. */
  ip: string;
  /** requestId ties audit entries to logs. */
  requestId: string;
}

/** LoginResult is a new session and its user. */
export interface LoginResult {
  /** user is the logged-in user. */
  user: PublicUser;
  /** session holds the cookie value and CSRF token (shown once). */
  session: IssuedSession;
}

/** SessionInfo describes the caller (GET /api/auth/session). */
export interface SessionInfo {
  /** user is the caller. */
  user: PublicUser;
  /** kind says how the caller authenticated. */
  kind: 'session' | 'token';
  /** scopes are the caller's scopes. */
  scopes: string[];
  /** teams lists the caller's teams and roles. */
  teams: { id: string; slug: string; name: string; role: Role }[];
}

/** AuthServiceDeps are what AuthService needs. */
export interface AuthServiceDeps {
  /** dataSource is the database. */
  dataSource: DataSource;
  /** clock is the time source. */
  clock: Clock;
  /** audit records mutations. */
  audit: AuditRecorder;
  /** sessions stores sessions. */
  sessions: SessionStore;
  /** teams creates the first team at setup. */
  teams: TeamService;
  /** limiter rate-limits the credential endpoints. */
  limiter: RateLimiter;
  /** mailer delivers reset links. */
  mailer: Mailer;
  /** publicUrl is DROVER_PUBLIC_URL without a trailing slash: the only base of links. */
  publicUrl: string;
  /** argon2 overrides the argon2id costs (tests may not lower them below the defaults in production). */
  argon2?: Argon2Costs;
}

/** actorFor builds the session Actor of a freshly issued session (for audit entries of login and setup). */
export function actorFor(userId: string, sessionId: string, meta: RequestMeta): Actor {
  return { kind: 'session', userId, sessionId, scopes: [...Scopes], ip: meta.ip, requestId: meta.requestId };
}

/** AuthService implements setup, login, logout, session info and password reset. */
export class AuthService {
  private readonly d: AuthServiceDeps;
  /** cookieSecure is true when the public URL is https: cookies then carry `Secure`. */
  readonly cookieSecure: boolean;
  constructor(deps: AuthServiceDeps) {
    this.d = deps;
    this.cookieSecure = deps.publicUrl.startsWith('https:');
  }

  /** setupOpen tells whether first-run setup is still possible (no user exists yet). */
  async setupOpen(): Promise<boolean> {
    const rows: unknown[] = await this.d.dataSource.query('SELECT 1 FROM users LIMIT 1');
    return rows.length === 0;
  }

  /**
   * setup creates the first owner, their first team and a session; `auth/setup_closed` once any user exists.
   */
  async setup(
    input: { email: string; name: string; password: string; teamName: string; teamSlug?: string | undefined }, meta: RequestMeta,
  ): Promise<LoginResult & { team: Team }> {
    await this.d.limiter.check('setup', { ip: meta.ip });
    if (!(await this.setupOpen())) throw new DomainError('auth/setup_closed');
    const passwordHash = await hashPassword(input.password, this.d.argon2);
    return this.d.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK]);
      const any: unknown[] = await m.query('SELECT 1 FROM users LIMIT 1');
      if (any.length > 0) throw new DomainError('auth/setup_closed');
      const user = await insertUser(m, this.d.clock, { email: input.email, name: input.name, passwordHash });
      const session = await this.d.sessions.create(user.id, meta.ip, m);
      const actor = actorFor(user.id, session.id, meta);
      await this.d.audit.record({ actor, teamId: null, action: 'auth.setup', targetType: 'user', targetId: user.id, details: { email: user.email } }, m);
      const team = await this.d.teams.createInTx(m, actor, user.id, { name: input.teamName, slug: input.teamSlug });
      return { user: publicUser(user), session, team };
    });
  }

  /**
   * login checks email and password (rate-limited per address and per email) and issues a new session; the
   * session of `previousSecret` (the cookie the request carried) is revoked.
   */
  async login(input: { email: string; password: string }, meta: RequestMeta, previousSecret?: string): Promise<LoginResult> {
    await this.d.limiter.check('login', { ip: meta.ip, account: input.email });
    const user = await findUserByEmail(this.d.dataSource.manager, input.email);
    if (!user) {
      await burnPasswordCheck(input.password);
      throw new DomainError('auth/invalid_credentials');
    }
    if (!(await verifyPassword(input.password, user.passwordHash))) throw new DomainError('auth/invalid_credentials');
    await this.d.limiter.forget('login', input.email);
    return this.d.dataSource.transaction(async (m) => {
      if (previousSecret) await this.d.sessions.revokeSecret(previousSecret, m);
      const session = await this.d.sessions.create(user.id, meta.ip, m);
      await this.d.audit.record({ actor: actorFor(user.id, session.id, meta), teamId: null, action: 'auth.login', targetType: 'session', targetId: session.id }, m);
      return { user: publicUser(user), session };
    });
  }

  /** logout revokes the caller's cookie session; an API token has no session to end (`auth/forbidden`: delete the token). */
  async logout(actor: Actor): Promise<void> {
    if (actor.kind !== 'session' || !actor.sessionId) {
      throw new DomainError('auth/forbidden', 'Logout ends a cookie session; revoke an API token with DELETE /api/tokens/{tokenId}');
    }
    const sessionId = actor.sessionId;
    await this.d.dataSource.transaction(async (m) => {
      await this.d.sessions.revoke(sessionId, m);
      await this.d.audit.record({ actor, teamId: null, action: 'auth.logout', targetType: 'session', targetId: sessionId }, m);
    });
  }

  /** session describes the caller and their teams. */
  async session(actor: Actor): Promise<SessionInfo> {
    const user = await findUserById(this.d.dataSource.manager, actor.userId);
    if (!user) throw new DomainError('auth/unauthenticated');
    const teams: { id: string; slug: string; name: string; role: Role }[] = await this.d.dataSource.query(
      'SELECT t.id, t.slug, t.name, tm.role FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE tm.user_id = $1 ORDER BY tm.created_at, t.id',
      [actor.userId],
    );
    return { user: publicUser(user), kind: actor.kind, scopes: [...actor.scopes], teams };
  }

  /**
   * requestPasswordReset mails a one-hour reset link to the account of `email`, if there is one; the caller learns
   * nothing either way (the route always answers 202). Older unused links of the user are voided.
   */
  async requestPasswordReset(email: string, meta: RequestMeta): Promise<void> {
    await this.d.limiter.check('passwordReset', { ip: meta.ip, account: email });
    const user = await findUserByEmail(this.d.dataSource.manager, email);
    if (!user) return;
    const token = randomSecret();
    const now = this.d.clock.now();
    await this.d.dataSource.transaction(async (m) => {
      await m.query('UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL', [user.id, now]);
      await m.query(
        'INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
        [randomUUID(), user.id, sha256Hex(token), now, new Date(now.getTime() + RESET_TTL_MS)],
      );
      await this.d.audit.record({ actor: null, teamId: null, action: 'auth.password_reset_request', targetType: 'user', targetId: user.id, details: { ip: meta.ip } }, m);
    });
    const link = `${this.d.publicUrl}/reset-password#token=${token}`;
    await this.d.mailer.send({
      kind: 'password_reset', to: user.email, link, subject: 'Reset your Drover password',
      text: `Someone asked to reset the password of your Drover account.\n\nOpen this link within one hour to choose a new password:\n${link}\n\nIf it was not you, ignore this message.`,
    });
  }

  /** confirmPasswordReset sets a new password with a reset token and revokes every session of the user. */
  async confirmPasswordReset(input: { token: string; password: string }, meta: RequestMeta): Promise<void> {
    await this.d.limiter.check('passwordReset', { ip: meta.ip });
    if (!SECRET_SHAPE.test(input.token)) throw new DomainError('auth/token_invalid');
    const passwordHash = await hashPassword(input.password, this.d.argon2);
    await this.d.dataSource.transaction(async (m) => {
      const now = this.d.clock.now();
      const [rows] = (await m.query(
        'UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id',
        [sha256Hex(input.token), now],
      )) as [{ user_id: string }[], number];
      const userId = rows[0]?.user_id;
      if (!userId) throw new DomainError('auth/token_invalid');
      await m.query('UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1', [userId, passwordHash, now]);
      await this.d.sessions.revokeAllOf(userId, m);
      await this.d.audit.record({
        actor: null, teamId: null, action: 'auth.password_reset', targetType: 'user', targetId: userId, details: { ip: meta.ip, requestId: meta.requestId },
      }, m);
    });
  }
}
