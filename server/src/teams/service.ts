/**
 * Teams and members: creating, listing, renaming (the slug never changes) and deleting teams; listing members,
 * changing their role or project limit, removing them. Only owners make or unmake owners, and a team keeps at least
 * one owner (checked under a row lock on the team, so two concurrent demotions cannot both pass). Every mutation is
 * audited in its transaction.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Membership } from '../core/access.ts';
import type { Actor, Role } from '../core/actor.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError, invalid } from '../core/errors.ts';
import { decodeCursor, toPage, type Page, type PageParams } from '../core/pagination.ts';
import { isSlug, slugify } from '../core/slugs.ts';
import { isUuid } from '../users/ids.ts';
import { isUniqueViolation } from '../users/service.ts';
import { requireScope, type TeamAccess } from './access.ts';

/** Team is a team as the API shows it, with the caller's role. */
export interface Team {
  /** id is the team's ID. */
  id: string;
  /** slug is immutable. */
  slug: string;
  /** name is the display name. */
  name: string;
  /** role is the caller's role in the team. */
  role: Role;
  /** createdAt is when the team was made (ISO 8601). */
  createdAt: string;
  /** updatedAt is when it last changed (ISO 8601). */
  updatedAt: string;
}

/** Member is a member as the API shows them. */
export interface Member {
  /** userId is the member's user ID. */
  userId: string;
  /** email is the member's email. */
  email: string;
  /** name is the member's display name. */
  name: string;
  /** role is the member's role. */
  role: Role;
  /** projectIds limits the member to these projects; null means every project. */
  projectIds: string[] | null;
  /** joinedAt is when they joined (ISO 8601). */
  joinedAt: string;
}

interface TeamRowSql { id: string; slug: string; name: string; created_at: Date; updated_at: Date; role: Role }
interface MemberRowSql { user_id: string; email: string; name: string; role: Role; project_ids: string[] | null; created_at: Date }

const teamView = (r: TeamRowSql): Team => ({
  id: r.id, slug: r.slug, name: r.name, role: r.role, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
});
const memberView = (r: MemberRowSql): Member => ({
  userId: r.user_id, email: r.email, name: r.name, role: r.role, projectIds: r.project_ids, joinedAt: r.created_at.toISOString(),
});

/** checkCursor decodes a list cursor whose key is a time and whose id is a UUID (else 400 naming query.cursor). */
export function checkCursor(cursor: string | undefined): { key: Date; id: string } | null {
  const c = decodeCursor(cursor);
  if (!c) return null;
  if (!isUuid(c.id) || Number.isNaN(Date.parse(c.key))) throw invalid([{ path: 'query.cursor', message: 'not a cursor this API issued' }]);
  return { key: new Date(c.key), id: c.id };
}

/**
 * checkProjectIds refuses a project limit naming projects that are not the team's (400 naming each bad entry under
 * `field`), so a limit can never point at another team's project.
 */
export async function checkProjectIds(m: EntityManager, teamId: string, ids: readonly string[] | null | undefined, field: string): Promise<void> {
  if (!ids || ids.length === 0) return;
  const rows: { id: string }[] = await m.query('SELECT id FROM projects WHERE team_id = $1 AND id = ANY($2::uuid[])', [teamId, [...ids]]);
  const known = new Set(rows.map((r) => r.id));
  const bad = ids.map((id, i) => ({ id, i })).filter((x) => !known.has(x.id));
  if (bad.length > 0) throw invalid(bad.map((x) => ({ path: `${field}[${x.i}]`, message: 'is not a project of this team' })));
}

/** TeamServiceDeps are what TeamService needs. */
export interface TeamServiceDeps {
  /** dataSource is the database. */
  dataSource: DataSource;
  /** clock is the time source. */
  clock: Clock;
  /** audit records mutations. */
  audit: AuditRecorder;
  /** access checks memberships. */
  access: TeamAccess;
}

/** TeamService manages teams and their members. */
export class TeamService {
  private readonly ds: DataSource;
  private readonly clock: Clock;
  private readonly audit: AuditRecorder;
  private readonly access: TeamAccess;
  constructor(deps: TeamServiceDeps) {
    this.ds = deps.dataSource;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.access = deps.access;
  }

  /**
   * createInTx makes a team with `ownerId` as its owner inside `m`'s transaction. An explicit slug that is taken is
   * `team/slug_taken`; a slug derived from the name gets a random suffix instead.
   */
  async createInTx(m: EntityManager, actor: Actor | null, ownerId: string, input: { name: string; slug?: string | undefined }): Promise<Team> {
    const now = this.clock.now();
    const id = randomUUID();
    const explicit = input.slug !== undefined;
    let slug = input.slug ?? slugify(input.name);
    if (!isSlug(slug)) slug = 'team';
    for (let attempt = 0; ; attempt++) {
      try {
        await m.query('SAVEPOINT create_team');
        await m.query('INSERT INTO teams (id, slug, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)', [id, slug, input.name, now]);
        await m.query('RELEASE SAVEPOINT create_team');
        break;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        await m.query('ROLLBACK TO SAVEPOINT create_team');
        if (explicit || attempt >= 5) {
          throw new DomainError('team/slug_taken', 'A team with this slug exists', { errors: [{ path: 'body.slug', message: 'is taken' }] });
        }
        slug = `${slug.slice(0, 25).replace(/-+$/, '')}-${randomBytes(2).toString('hex')}`;
      }
    }
    await m.query('INSERT INTO team_members (team_id, user_id, role, project_ids, created_at) VALUES ($1, $2, $3, NULL, $4)', [id, ownerId, 'owner', now]);
    await this.audit.record({ actor, teamId: id, action: 'team.create', targetType: 'team', targetId: id, details: { slug, name: input.name } }, m);
    return { id, slug, name: input.name, role: 'owner', createdAt: now.toISOString(), updatedAt: now.toISOString() };
  }

  /** create makes a team with the caller as its owner; it needs a scope that grants `write`. */
  async create(actor: Actor, input: { name: string; slug?: string | undefined }): Promise<Team> {
    requireScope(actor, 'write');
    return this.ds.transaction((m) => this.createInTx(m, actor, actor.userId, input));
  }

  /** listMine lists the caller's teams, oldest membership first. */
  async listMine(actor: Actor, page: PageParams): Promise<Page<Team>> {
    requireScope(actor, 'read');
    const c = checkCursor(page.cursor);
    const rows: (TeamRowSql & { joined: Date })[] = await this.ds.query(
      `SELECT t.*, tm.role, tm.created_at AS joined FROM team_members tm JOIN teams t ON t.id = tm.team_id
       WHERE tm.user_id = $1 ${c ? 'AND (tm.created_at, t.id) > ($3::timestamptz, $4::uuid)' : ''}
       ORDER BY tm.created_at, t.id LIMIT $2`,
      c ? [actor.userId, page.limit + 1, c.key, c.id] : [actor.userId, page.limit + 1],
    );
    const p = toPage(rows, page.limit, (r) => ({ key: r.joined.toISOString(), id: r.id }));
    return { items: p.items.map(teamView), nextCursor: p.nextCursor };
  }

  /** get returns one team the caller belongs to (`read`). */
  async get(actor: Actor, teamId: string): Promise<Team> {
    const ms = await this.access.requireTeam(actor, teamId, 'read');
    return this.load(this.ds.manager, teamId, ms);
  }

  private async load(m: EntityManager, teamId: string, ms: Membership): Promise<Team> {
    const rows: TeamRowSql[] = await m.query('SELECT * FROM teams WHERE id = $1', [teamId]);
    const r = rows[0];
    if (!r) throw new DomainError('team/not_found');
    return teamView({ ...r, role: ms.role });
  }

  /** rename changes the display name (`manage`); the slug never changes. */
  async update(actor: Actor, teamId: string, input: { name: string }): Promise<Team> {
    const ms = await this.access.requireTeam(actor, teamId, 'manage');
    return this.ds.transaction(async (m) => {
      const before: { name: string }[] = await m.query('SELECT name FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
      if (!before[0]) throw new DomainError('team/not_found');
      await m.query('UPDATE teams SET name = $2, updated_at = $3 WHERE id = $1', [teamId, input.name, this.clock.now()]);
      await this.audit.record({ actor, teamId, action: 'team.update', targetType: 'team', targetId: teamId, details: { from: before[0].name, to: input.name } }, m);
      return this.load(m, teamId, ms);
    });
  }

  /**
   * delete removes a team (`own`). A team that still has projects is `team/not_empty`: deleting the projects first is
   * what stops their jobs and removes their secrets, which a cascade in Postgres would skip.
   */
  async delete(actor: Actor, teamId: string): Promise<void> {
    await this.access.requireTeam(actor, teamId, 'own');
    try {
      await this.ds.transaction(async (m) => {
        await m.query('SELECT id FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
        const projects: unknown[] = await m.query('SELECT 1 FROM projects WHERE team_id = $1 LIMIT 1', [teamId]);
        if (projects.length > 0) throw new DomainError('team/not_empty', 'Delete the team’s projects first');
        const [rows] = (await m.query('DELETE FROM teams WHERE id = $1 RETURNING slug, name', [teamId])) as [{ slug: string; name: string }[], number];
        if (!rows[0]) throw new DomainError('team/not_found');
        await this.audit.record({ actor, teamId, action: 'team.delete', targetType: 'team', targetId: teamId, details: { slug: rows[0].slug, name: rows[0].name } }, m);
      });
    } catch (e) {
      const code = (e as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (e as { code?: string }).code;
      if (code === '23503') throw new DomainError('team/not_empty', 'Delete the team’s projects first', { cause: e });
      throw e;
    }
  }

  /** listMembers lists a team's members (`read`), oldest first. */
  async listMembers(actor: Actor, teamId: string, page: PageParams): Promise<Page<Member>> {
    await this.access.requireTeam(actor, teamId, 'read');
    const c = checkCursor(page.cursor);
    const rows: MemberRowSql[] = await this.ds.query(
      `SELECT tm.*, u.email, u.name FROM team_members tm JOIN users u ON u.id = tm.user_id
       WHERE tm.team_id = $1 ${c ? 'AND (tm.created_at, tm.user_id) > ($3::timestamptz, $4::uuid)' : ''}
       ORDER BY tm.created_at, tm.user_id LIMIT $2`,
      c ? [teamId, page.limit + 1, c.key, c.id] : [teamId, page.limit + 1],
    );
    const p = toPage(rows, page.limit, (r) => ({ key: r.created_at.toISOString(), id: r.user_id }));
    return { items: p.items.map(memberView), nextCursor: p.nextCursor };
  }

  /**
   * updateMember changes a member's role and/or project limit (`manage`); making, unmaking or changing an owner
   * needs `own`, and the last owner cannot be demoted (`team/last_owner`).
   */
  async updateMember(
    actor: Actor, teamId: string, userId: string, input: { role?: Role | undefined; projectIds?: string[] | null | undefined },
  ): Promise<Member> {
    const ms = await this.access.requireTeam(actor, teamId, 'manage');
    return this.ds.transaction(async (m) => {
      await m.query('SELECT id FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
      const target = await this.memberRow(m, teamId, userId);
      const touchesOwner = target.role === 'owner' || input.role === 'owner';
      if (touchesOwner && ms.role !== 'owner') throw new DomainError('auth/forbidden', 'Only owners make, unmake or change owners');
      if (touchesOwner) await this.access.requireTeam(actor, teamId, 'own');
      if (target.role === 'owner' && input.role !== undefined && input.role !== 'owner') await this.requireAnotherOwner(m, teamId);
      await checkProjectIds(m, teamId, input.projectIds, 'body.projectIds');
      const role = input.role ?? target.role;
      const projectIds = input.projectIds === undefined ? target.project_ids : input.projectIds === null ? null : [...new Set(input.projectIds)];
      await m.query('UPDATE team_members SET role = $3, project_ids = $4 WHERE team_id = $1 AND user_id = $2', [teamId, userId, role, projectIds]);
      await this.audit.record({
        actor, teamId, action: 'member.update', targetType: 'member', targetId: userId,
        details: { from: { role: target.role, projectIds: target.project_ids }, to: { role, projectIds } },
      }, m);
      return memberView({ ...target, role, project_ids: projectIds });
    });
  }

  /**
   * removeMember removes a member: anyone may leave (with a scope that grants `write`); removing someone else needs
   * `manage`, and an owner `own`. The last owner stays (`team/last_owner`).
   */
  async removeMember(actor: Actor, teamId: string, userId: string): Promise<void> {
    const self = userId === actor.userId;
    const ms = await this.access.requireTeam(actor, teamId, self ? 'read' : 'manage');
    if (self) requireScope(actor, 'write');
    await this.ds.transaction(async (m) => {
      await m.query('SELECT id FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
      const target = await this.memberRow(m, teamId, userId);
      if (target.role === 'owner' && !self) {
        if (ms.role !== 'owner') throw new DomainError('auth/forbidden', 'Only owners remove owners');
        await this.access.requireTeam(actor, teamId, 'own');
      }
      if (target.role === 'owner') await this.requireAnotherOwner(m, teamId);
      await m.query('DELETE FROM team_members WHERE team_id = $1 AND user_id = $2', [teamId, userId]);
      await this.audit.record({ actor, teamId, action: 'member.remove', targetType: 'member', targetId: userId, details: { role: target.role, email: target.email } }, m);
    });
  }

  private async memberRow(m: EntityManager, teamId: string, userId: string): Promise<MemberRowSql> {
    if (!isUuid(userId)) throw new DomainError('member/not_found');
    const rows: MemberRowSql[] = await m.query(
      'SELECT tm.*, u.email, u.name FROM team_members tm JOIN users u ON u.id = tm.user_id WHERE tm.team_id = $1 AND tm.user_id = $2',
      [teamId, userId],
    );
    if (!rows[0]) throw new DomainError('member/not_found');
    return rows[0];
  }

  private async requireAnotherOwner(m: EntityManager, teamId: string): Promise<void> {
    const rows: { n: number }[] = await m.query(`SELECT count(*)::int AS n FROM team_members WHERE team_id = $1 AND role = 'owner'`, [teamId]);
    if ((rows[0]?.n ?? 0) < 2) throw new DomainError('team/last_owner');
  }
}
