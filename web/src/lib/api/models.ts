/**
 * The resource shapes the screens use. Each is the generated schema's type where the server names a component,
 * so a change of the API shows up as a type error in the screens (`npm run typecheck -w web`).
 */

/** Role is a member's role in a team, strongest first. */
export type Role = 'owner' | 'admin' | 'member' | 'viewer';
/** Roles lists every role, strongest first. */
export const Roles: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];
/** Scope is an API token scope. */
export type Scope = 'read' | 'deploy' | 'admin';

/** Permission is what a role may do; mirrors the server's role table (the server decides, the UI only hides). */
export type Permission = 'read' | 'deploy' | 'write' | 'reveal' | 'manage' | 'own';

const GRANTS: Record<Role, readonly Permission[]> = {
  owner: ['read', 'deploy', 'write', 'reveal', 'manage', 'own'],
  admin: ['read', 'deploy', 'write', 'reveal', 'manage'],
  member: ['read', 'deploy', 'write', 'reveal'],
  viewer: ['read'],
};

/** can tells whether a role grants a permission (null role: nothing). Controls use it to disable themselves. */
export function can(role: Role | null | undefined, p: Permission): boolean {
  return role ? GRANTS[role].includes(p) : false;
}

/** Page is one page of a cursor-paginated list. */
export interface Page<T> {
  /** items on this page. */
  items: T[];
  /** nextCursor fetches the next page, null on the last. */
  nextCursor: string | null;
}
