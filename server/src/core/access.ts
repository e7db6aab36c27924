/**
 * Access: the interface every domain service uses to decide whether an Actor may act on a team's resources. The
 * teams domain implements it (memberships, project restrictions); services call it before every read or write and
 * scope every query by the team it returns. A caller who is not a member gets the resource's `not_found` error, so
 * other teams' IDs leak nothing.
 */
import type { Actor, Permission, Role } from './actor.ts';

/** Membership is the caller's standing in one team. */
export interface Membership {
  /** teamId is the team's ID. */
  teamId: string;
  /** role is the caller's role in the team. */
  role: Role;
  /** projectIds limits a member to chosen projects; null means every project of the team. */
  projectIds: readonly string[] | null;
}

/** AccessChecker decides access; every method throws a DomainError when access is refused. */
export interface AccessChecker {
  /**
   * requireTeam returns the caller's membership in a team after checking that both the role and the token scopes
   * grant `permission`. Not a member → `team/not_found`; role too weak → `auth/forbidden`; scope too narrow →
   * `auth/insufficient_scope`.
   */
  requireTeam(actor: Actor, teamId: string, permission: Permission): Promise<Membership>;
  /**
   * requireProject does what requireTeam does and also checks a member limited to chosen projects; a project outside
   * them is answered with `notFound` (default `project/not_found`), as if it did not exist.
   */
  requireProject(actor: Actor, teamId: string, projectId: string, permission: Permission): Promise<Membership>;
}
