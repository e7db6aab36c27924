/**
 * Actors, roles and scopes: who is calling and what they may do. Authorization is decided in the services with
 * these functions (never in the routes), and every query is scoped to the caller's team.
 */

/** Scopes lists the API token scopes, weakest first. A cookie session carries every scope. */
export const Scopes = ['read', 'deploy', 'admin'] as const;
/** Scope is an API token scope: `read` (GET only), `deploy` (read + deploy/scale/restart), `admin` (everything). */
export type Scope = (typeof Scopes)[number];

/** Roles lists the team roles, strongest first. */
export const Roles = ['owner', 'admin', 'member', 'viewer'] as const;
/** Role is a member's role in a team. */
export type Role = (typeof Roles)[number];

/**
 * Permission is an action a role may be granted:
 * - `read`: see the team's resources (never secret values);
 * - `deploy`: deploy, cancel, roll back, scale, restart;
 * - `write`: create, change and delete projects, environments, services, variables, domains;
 * - `reveal`: read secret values (audited);
 * - `manage`: members, invitations, team settings, audit log;
 * - `own`: delete the team, make owners.
 */
export type Permission = 'read' | 'deploy' | 'write' | 'reveal' | 'manage' | 'own';

/** RolePermissions is the role → permission table every service consults. */
export const RolePermissions: Readonly<Record<Role, readonly Permission[]>> = Object.freeze({
  owner: ['read', 'deploy', 'write', 'reveal', 'manage', 'own'],
  admin: ['read', 'deploy', 'write', 'reveal', 'manage'],
  member: ['read', 'deploy', 'write', 'reveal'],
  viewer: ['read'],
});

/** ScopePermissions is the token scope → permission table: a token can never do more than its scope allows. */
export const ScopePermissions: Readonly<Record<Scope, readonly Permission[]>> = Object.freeze({
  read: ['read'],
  deploy: ['read', 'deploy'],
  admin: ['read', 'deploy', 'write', 'reveal', 'manage', 'own'],
});

/** Actor is the authenticated caller: a user through a cookie session, or through one of their API tokens. */
export interface Actor {
  /** kind says how the caller authenticated. */
  kind: 'session' | 'token';
  /** userId is the user's ID; API tokens act as the user who made them, limited by their scopes. */
  userId: string;
  /** sessionId is set for cookie sessions. */
  sessionId?: string;
  /** tokenId is set for API tokens. */
  tokenId?: string;
  /** scopes limits what the caller may do; a session has every scope. */
  scopes: readonly Scope[];
  /** ip is the client address as Koa sees it (proxy headers only when DROVER_TRUST_PROXY is set). */
  ip: string;
  /** requestId ties audit entries and logs to the request. */
  requestId: string;
}

/** roleAllows tells whether a role grants a permission. */
export function roleAllows(role: Role, permission: Permission): boolean {
  return RolePermissions[role].includes(permission);
}

/** scopesAllow tells whether any of the scopes grants a permission. */
export function scopesAllow(scopes: readonly Scope[], permission: Permission): boolean {
  return scopes.some((s) => ScopePermissions[s].includes(permission));
}
