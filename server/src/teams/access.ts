/**
 * TeamAccess: the AccessChecker every domain service calls. It reads the caller's membership and checks, in this
 * order: membership (else the resource's `not_found`, so other teams' IDs leak nothing), token scope (else
 * `auth/insufficient_scope`), role (else `auth/forbidden`), and for project-bound calls the member's project limit
 * (else `project/not_found`).
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { AccessChecker, Membership } from '../core/access.ts';
import { roleAllows, scopesAllow, type Actor, type Permission, type Role } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import { isUuid } from '../users/ids.ts';

/** TeamAccess implements AccessChecker over `team_members`. */
export class TeamAccess implements AccessChecker {
  private readonly ds: DataSource;
  constructor(ds: DataSource) {
    this.ds = ds;
  }

  /** membership returns the caller's membership in a team, or null when they are not a member (no checks). */
  async membership(userId: string, teamId: string, manager?: EntityManager): Promise<Membership | null> {
    if (!isUuid(teamId)) return null;
    const rows: { role: Role; project_ids: string[] | null }[] = await (manager ?? this.ds.manager).query(
      'SELECT role, project_ids FROM team_members WHERE team_id = $1 AND user_id = $2',
      [teamId, userId],
    );
    const r = rows[0];
    return r ? { teamId, role: r.role, projectIds: r.project_ids } : null;
  }

  /** requireTeam checks membership, scope and role (see the file comment) and returns the membership. */
  async requireTeam(actor: Actor, teamId: string, permission: Permission): Promise<Membership> {
    const m = await this.membership(actor.userId, teamId);
    if (!m) throw new DomainError('team/not_found');
    if (!scopesAllow(actor.scopes, permission)) {
      throw new DomainError('auth/insufficient_scope', `This needs a token with a scope that grants "${permission}"`);
    }
    if (!roleAllows(m.role, permission)) {
      throw new DomainError('auth/forbidden', `The ${m.role} role does not grant "${permission}"`);
    }
    return m;
  }

  /** requireProject does what requireTeam does, then answers `project/not_found` outside a member's project limit. */
  async requireProject(actor: Actor, teamId: string, projectId: string, permission: Permission): Promise<Membership> {
    const m = await this.requireTeam(actor, teamId, permission);
    if (m.projectIds !== null && !m.projectIds.includes(projectId)) throw new DomainError('project/not_found');
    return m;
  }
}

/** requireScope refuses a token whose scopes do not grant `permission` (for calls that are not bound to a team). */
export function requireScope(actor: Actor, permission: Permission): void {
  if (!scopesAllow(actor.scopes, permission)) {
    throw new DomainError('auth/insufficient_scope', `This needs a token with a scope that grants "${permission}"`);
  }
}
