/**
 * Invitations: owners and admins invite an email to a team with a role (only owners invite owners). The link,
 * built from the configured public URL only, carries a one-use token stored as its SHA-256 and valid 7 days; it is
 * mailed and also returned once to the inviter (Drover has no mail transport by default). Accepting: an invitee who
 * has an account must be logged in as that account; one who has none creates it here with a password and is logged in.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Actor, Role } from '../core/actor.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError, invalid } from '../core/errors.ts';
import { toPage, type Page, type PageParams } from '../core/pagination.ts';
import { actorFor, type RequestMeta } from '../auth/service.ts';
import type { Mailer } from '../auth/mailer.ts';
import type { RateLimiter } from '../auth/rate-limit.ts';
import { randomSecret, SECRET_SHAPE, sha256Hex } from '../auth/secrets.ts';
import type { IssuedSession, SessionStore } from '../auth/sessions.ts';
import { normalizeEmail } from '../users/email.ts';
import { isUuid } from '../users/ids.ts';
import { hashPassword, type Argon2Costs } from '../users/password.ts';
import { findUserByEmail, insertUser } from '../users/service.ts';
import { requireScope, type TeamAccess } from './access.ts';
import { checkCursor, checkProjectIds } from './service.ts';

/** INVITATION_TTL_MS is how long an invitation works: 7 days. */
export const INVITATION_TTL_MS = 7 * 24 * 3600_000;

/** Invitation is a pending invitation as the API shows it (never the token). */
export interface Invitation {
  /** id is the invitation's ID. */
  id: string;
  /** teamId is the team. */
  teamId: string;
  /** email is the invitee. */
  email: string;
  /** role is the role offered. */
  role: Role;
  /** projectIds limits the invitee to these projects; null means every project. */
  projectIds: string[] | null;
  /** invitedBy is the inviting user's ID. */
  invitedBy: string | null;
  /** createdAt and expiresAt are ISO 8601 times. */
  createdAt: string;
  /** expiresAt is when the link stops working. */
  expiresAt: string;
}

/** AcceptResult says what accepting did; `session` is set when an account was created (and logged in). */
export interface AcceptResult {
  /** team is the joined team. */
  team: { id: string; slug: string; name: string };
  /** role is the role received. */
  role: Role;
  /** userId is the joining user. */
  userId: string;
  /** session is the new session of a new account. */
  session: IssuedSession | null;
}

interface Row { id: string; team_id: string; email: string; role: Role; project_ids: string[] | null; invited_by: string | null; created_at: Date; expires_at: Date }

const view = (r: Row): Invitation => ({
  id: r.id, teamId: r.team_id, email: r.email, role: r.role, projectIds: r.project_ids, invitedBy: r.invited_by,
  createdAt: r.created_at.toISOString(), expiresAt: r.expires_at.toISOString(),
});

/** InvitationServiceDeps are what InvitationService needs. */
export interface InvitationServiceDeps {
  /** dataSource is the database. */
  dataSource: DataSource;
  /** clock is the time source. */
  clock: Clock;
  /** audit records mutations. */
  audit: AuditRecorder;
  /** access checks memberships. */
  access: TeamAccess;
  /** sessions logs new accounts in. */
  sessions: SessionStore;
  /** limiter rate-limits acceptance. */
  limiter: RateLimiter;
  /** mailer delivers invitation links. */
  mailer: Mailer;
  /** publicUrl is the only base of links. */
  publicUrl: string;
  /** argon2 overrides the argon2id costs. */
  argon2?: Argon2Costs;
}

/** InvitationService manages invitations. */
export class InvitationService {
  private readonly d: InvitationServiceDeps;
  constructor(deps: InvitationServiceDeps) {
    this.d = deps;
  }

  /** create invites an email (`manage`; an owner invitation needs `own`); a pending invitation of the same email is replaced. */
  async create(actor: Actor, teamId: string, input: { email: string; role: Role; projectIds?: string[] | null | undefined }): Promise<Invitation & { acceptUrl: string }> {
    const ms = await this.d.access.requireTeam(actor, teamId, input.role === 'owner' ? 'own' : 'manage');
    if (input.role === 'owner' && ms.role !== 'owner') throw new DomainError('auth/forbidden', 'Only owners invite owners');
    const email = normalizeEmail(input.email);
    const token = randomSecret();
    const now = this.d.clock.now();
    const row: Row = {
      id: randomUUID(), team_id: teamId, email, role: input.role, project_ids: input.projectIds ? [...new Set(input.projectIds)] : null,
      invited_by: actor.userId, created_at: now, expires_at: new Date(now.getTime() + INVITATION_TTL_MS),
    };
    const team = await this.d.dataSource.transaction(async (m) => {
      const members: unknown[] = await m.query(
        'SELECT 1 FROM team_members tm JOIN users u ON u.id = tm.user_id WHERE tm.team_id = $1 AND u.email = $2', [teamId, email]);
      if (members.length > 0) throw new DomainError('member/exists', 'This user is a member already', { errors: [{ path: 'body.email', message: 'is a member already' }] });
      await checkProjectIds(m, teamId, input.projectIds, 'body.projectIds');
      await m.query('DELETE FROM invitations WHERE team_id = $1 AND email = $2 AND accepted_at IS NULL', [teamId, email]);
      await m.query(
        `INSERT INTO invitations (id, team_id, email, role, project_ids, token_hash, invited_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [row.id, teamId, email, row.role, row.project_ids, sha256Hex(token), actor.userId, now, row.expires_at],
      );
      await this.d.audit.record({ actor, teamId, action: 'invitation.create', targetType: 'invitation', targetId: row.id, details: { email, role: row.role } }, m);
      const t: { name: string }[] = await m.query('SELECT name FROM teams WHERE id = $1', [teamId]);
      return t[0]?.name ?? '';
    });
    const acceptUrl = `${this.d.publicUrl}/invitations/accept#token=${token}`;
    await this.d.mailer.send({
      kind: 'invitation', to: email, link: acceptUrl, subject: `You are invited to ${team} on Drover`,
      text: `You are invited to join the team "${team}" on Drover as ${row.role}.\n\nOpen this link within 7 days to accept:\n${acceptUrl}\n`,
    });
    return { ...view(row), acceptUrl };
  }

  /** list returns a team's pending invitations (`manage`), oldest first. */
  async list(actor: Actor, teamId: string, page: PageParams): Promise<Page<Invitation>> {
    await this.d.access.requireTeam(actor, teamId, 'manage');
    const c = checkCursor(page.cursor);
    const rows: Row[] = await this.d.dataSource.query(
      `SELECT * FROM invitations WHERE team_id = $1 AND accepted_at IS NULL
       ${c ? 'AND (created_at, id) > ($3::timestamptz, $4::uuid)' : ''} ORDER BY created_at, id LIMIT $2`,
      c ? [teamId, page.limit + 1, c.key, c.id] : [teamId, page.limit + 1],
    );
    const p = toPage(rows, page.limit, (r) => ({ key: r.created_at.toISOString(), id: r.id }));
    return { items: p.items.map(view), nextCursor: p.nextCursor };
  }

  /** delete withdraws a pending invitation (`manage`). */
  async delete(actor: Actor, teamId: string, invitationId: string): Promise<void> {
    await this.d.access.requireTeam(actor, teamId, 'manage');
    if (!isUuid(invitationId)) throw new DomainError('invitation/not_found');
    await this.d.dataSource.transaction(async (m) => {
      const [rows] = (await m.query(
        'DELETE FROM invitations WHERE id = $1 AND team_id = $2 AND accepted_at IS NULL RETURNING email', [invitationId, teamId],
      )) as [{ email: string }[], number];
      if (!rows[0]) throw new DomainError('invitation/not_found');
      await this.d.audit.record({ actor, teamId, action: 'invitation.delete', targetType: 'invitation', targetId: invitationId, details: { email: rows[0].email } }, m);
    });
  }

  /**
   * accept joins the invitation's team. With an account for the email, the caller must be logged in as it
   * (`auth/unauthenticated`, or `auth/forbidden` for another account); without one, `name` and `password` create it
   * and a session is issued. An unknown, used or expired token is `auth/token_invalid`.
   */
  async accept(actor: Actor | null, input: { token: string; name?: string | undefined; password?: string | undefined }, meta: RequestMeta): Promise<AcceptResult> {
    if (actor) requireScope(actor, 'write');
    await this.d.limiter.check('invitationAccept', { ip: meta.ip });
    if (!SECRET_SHAPE.test(input.token)) throw new DomainError('auth/token_invalid');
    const now = this.d.clock.now();
    const found: Row[] = await this.d.dataSource.query(
      'SELECT * FROM invitations WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2', [sha256Hex(input.token), now]);
    const inv = found[0];
    if (!inv) throw new DomainError('auth/token_invalid');
    const existing = await findUserByEmail(this.d.dataSource.manager, inv.email);
    if (existing) {
      if (!actor) throw new DomainError('auth/unauthenticated', 'Log in as the invited account to accept');
      if (actor.userId !== existing.id) throw new DomainError('auth/forbidden', 'The invitation is for another account');
    } else if (actor) {
      throw new DomainError('auth/forbidden', 'The invitation is for another account');
    } else {
      const missing = [
        ...(input.password === undefined ? [{ path: 'body.password', message: 'is required to create the invited account' }] : []),
        ...(input.name === undefined ? [{ path: 'body.name', message: 'is required to create the invited account' }] : []),
      ];
      if (missing.length > 0) throw invalid(missing);
    }
    const passwordHash = existing ? null : await hashPassword(input.password ?? '', this.d.argon2);
    return this.d.dataSource.transaction(async (m) => {
      const [claimed] = (await m.query(
        'UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL AND expires_at > $2 RETURNING id', [inv.id, now],
      )) as [{ id: string }[], number];
      if (claimed.length === 0) throw new DomainError('auth/token_invalid');
      let userId: string;
      let session: IssuedSession | null = null;
      let who: Actor;
      if (existing && actor) {
        userId = existing.id;
        who = actor;
      } else {
        const user = await insertUser(m, this.d.clock, { email: inv.email, name: input.name ?? '', passwordHash: passwordHash ?? '' });
        userId = user.id;
        session = await this.d.sessions.create(user.id, meta.ip, m);
        who = actorFor(user.id, session.id, meta);
        await this.d.audit.record({ actor: who, teamId: inv.team_id, action: 'user.create', targetType: 'user', targetId: user.id, details: { email: user.email } }, m);
      }
      const dup: unknown[] = await m.query('SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2', [inv.team_id, userId]);
      if (dup.length > 0) throw new DomainError('member/exists');
      await m.query(
        'INSERT INTO team_members (team_id, user_id, role, project_ids, created_at) VALUES ($1, $2, $3, $4, $5)',
        [inv.team_id, userId, inv.role, inv.project_ids, now],
      );
      await this.d.audit.record({ actor: who, teamId: inv.team_id, action: 'invitation.accept', targetType: 'member', targetId: userId, details: { invitationId: inv.id, role: inv.role } }, m);
      const t: { id: string; slug: string; name: string }[] = await m.query('SELECT id, slug, name FROM teams WHERE id = $1', [inv.team_id]);
      const team = t[0];
      if (!team) throw new DomainError('auth/token_invalid');
      return { team, role: inv.role, userId, session };
    });
  }
}
