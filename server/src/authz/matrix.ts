/**
 * THE AUTHORIZATION MATRIX: for every operation of the OpenAPI document, what each team role gets with each kind of
 * credential, and what a caller without credentials and the owner of another team get. `matrix.test.ts` walks every
 * operation over real HTTP and enforces this file; it fails when an operation of the document is missing here, or
 * when this file names an operation the document does not have.
 *
 * Outcome letters: `A` allowed (the operation's documented 2xx), `F` 403, `N` 404, `U` 401, `C` 409.
 * `grid` is four groups for the roles owner, admin, member, viewer; each group is four letters for the
 * credentials: cookie session, `read` token, `deploy` token, `admin` token. Example: `AFFA AFFA FFFF FFFF` is an
 * operation for owners and admins, through a session or an admin-scoped token.
 */

/** Outcome is the class of answer an operation gives a caller. */
export type Outcome = 'A' | 'F' | 'N' | 'U' | 'C';

/** Credentials are the credential kinds of the grid, in column order. */
export const Credentials = ['session', 'read', 'deploy', 'admin'] as const;
/** Credential is one credential kind: a cookie session or a token of one scope. */
export type Credential = (typeof Credentials)[number];

/** MatrixRow is one operation's expectations. */
export interface MatrixRow {
  /** grid is role × credential, see the file comment. */
  grid: string;
  /** anonymous is the outcome without credentials. */
  anonymous: Outcome;
  /** otherTeam is the outcome for the owner of another team, through a session. */
  otherTeam: Outcome;
  /** why explains an owner-session outcome other than `A` (the test demands `A` otherwise). */
  why?: string;
}

/** OUTCOME_STATUS maps a non-allow outcome to its HTTP status. */
export const OUTCOME_STATUS: Readonly<Record<Exclude<Outcome, 'A'>, number>> = Object.freeze({ F: 403, N: 404, U: 401, C: 409 });

const ALL = 'AAAA AAAA AAAA AAAA';
const MANAGE = 'AFFA AFFA FFFF FFFF';
const OWN = 'AFFA FFFF FFFF FFFF';
const ANY_ROLE_WRITE = 'AFFA AFFA AFFA AFFA';
const WRITE = 'AFFA AFFA AFFA FFFF';
const DEPLOY = 'AFAA AFAA AFAA FFFF';
const NOT_DEPLOYED = 'CFCC CFCC CFCC FFFF';

/** MATRIX is the checked-in matrix, by operationId. */
export const MATRIX: Readonly<Record<string, MatrixRow>> = Object.freeze({
  // auth (public operations answer everyone alike; the grid is the same for every role)
  getSetupStatus: { grid: ALL, anonymous: 'A', otherTeam: 'A' },
  completeSetup: { grid: 'CCCC CCCC CCCC CCCC', anonymous: 'C', otherTeam: 'C', why: 'setup closes once a user exists; its 201 is proven in auth.test.ts' },
  login: { grid: ALL, anonymous: 'A', otherTeam: 'A' },
  logout: { grid: 'AFFF AFFF AFFF AFFF', anonymous: 'U', otherTeam: 'A' },
  getSession: { grid: ALL, anonymous: 'U', otherTeam: 'A' },
  requestPasswordReset: { grid: ALL, anonymous: 'A', otherTeam: 'A' },
  confirmPasswordReset: { grid: ALL, anonymous: 'A', otherTeam: 'A' },
  // API tokens belong to their user: any role, but creating and deleting need the admin scope (or a session)
  createToken: { grid: ANY_ROLE_WRITE, anonymous: 'U', otherTeam: 'A' },
  listTokens: { grid: ALL, anonymous: 'U', otherTeam: 'A' },
  deleteToken: { grid: ANY_ROLE_WRITE, anonymous: 'U', otherTeam: 'N' },
  // teams
  createTeam: { grid: ANY_ROLE_WRITE, anonymous: 'U', otherTeam: 'A' },
  listTeams: { grid: ALL, anonymous: 'U', otherTeam: 'A' },
  getTeam: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  updateTeam: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  deleteTeam: { grid: OWN, anonymous: 'U', otherTeam: 'N' },
  listMembers: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  updateMember: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  removeMember: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  createInvitation: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  listInvitations: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  deleteInvitation: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  acceptInvitation: { grid: ANY_ROLE_WRITE, anonymous: 'U', otherTeam: 'F' },
  // audit
  listAuditEntries: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  // projects, environments, services, variables, domains: read for every role; write (and reveal) for owners,
  // admins and members through a session or an admin-scoped token
  createProject: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  listProjects: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  getProject: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  updateProject: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  deleteProject: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  createEnvironment: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  listEnvironments: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  getEnvironment: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  updateEnvironment: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  deleteEnvironment: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  duplicateEnvironment: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  createService: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  listServices: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  getService: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  updateService: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  deleteService: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  listServiceVariables: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  putServiceVariables: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  deleteServiceVariable: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  revealServiceVariable: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  listSharedVariables: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  listEnvironmentReferences: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  putSharedVariables: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  deleteSharedVariable: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  revealSharedVariable: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  // managed databases: reads for every role; create/update/remove and reveal for writers; destroying data for managers
  createDatabase: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  listDatabases: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  getDatabase: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  updateDatabase: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  deleteDatabase: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  revealDatabaseCredentials: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  destroyDatabaseVolume: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  // backups: destinations are team settings (managers); schedules for writers; backing up now is a deploy
  createBackupDestination: { grid: MANAGE, anonymous: 'U', otherTeam: 'N' },
  listBackupDestinations: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  putBackupSchedule: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  createBackup: { grid: DEPLOY, anonymous: 'U', otherTeam: 'N' },
  listBackups: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  getBackup: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  // restoring and verifying are deploys; the walk's backup never ran (no runner), so callers allowed to deploy get 409
  restoreBackup: { grid: NOT_DEPLOYED, anonymous: 'U', otherTeam: 'N', why: 'the walk has no backup runner, so its backup never succeeds: backup/not_ready; the 202 path is proven in backups/runner.test.ts' },
  verifyBackup: { grid: NOT_DEPLOYED, anonymous: 'U', otherTeam: 'N', why: 'the walk has no backup runner, so its backup never succeeds: backup/not_ready; the 202 path is proven in backups/runner.test.ts' },
  addDomain: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  listDomains: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  getDomain: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  deleteDomain: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  verifyDomain: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  // deployments: read for every role; deploy (and cancel, roll back, scale, restart, stop, remove) for owners, admins
  // and members through a session, a deploy-scoped or an admin-scoped token
  createServiceDeployment: { grid: DEPLOY, anonymous: 'U', otherTeam: 'N' },
  createEnvironmentDeployment: { grid: DEPLOY, anonymous: 'U', otherTeam: 'N' },
  createDatabaseDeployment: { grid: DEPLOY, anonymous: 'U', otherTeam: 'N' },
  listDatabaseDeployments: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  listServiceDeployments: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  getDeployment: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  listDeploymentEvents: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  cancelDeployment: { grid: DEPLOY, anonymous: 'U', otherTeam: 'N' },
  rollbackDeployment: { grid: NOT_DEPLOYED, anonymous: 'U', otherTeam: 'N', why: 'the walked deployment never became healthy (no worker runs here); rollback to a healthy one is proven in deployments.test.ts' },
  scaleService: { grid: NOT_DEPLOYED, anonymous: 'U', otherTeam: 'N', why: 'the walked service was never deployed; scaling a running one is proven in deployments.test.ts' },
  restartService: { grid: NOT_DEPLOYED, anonymous: 'U', otherTeam: 'N', why: 'the walked service was never deployed; restarting a running one is proven in deployments.test.ts' },
  stopService: { grid: NOT_DEPLOYED, anonymous: 'U', otherTeam: 'N', why: 'the walked service was never deployed; stopping a running one is proven in deployments.test.ts' },
  removeServiceDeployment: { grid: DEPLOY, anonymous: 'U', otherTeam: 'N' },
  listServiceRuns: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  // cluster status: any signed-in member of a team, any role and any token scope (no tenant data in the answer)
  getClusterStatus: { grid: ALL, anonymous: 'U', otherTeam: 'A' },
  // runtime: live logs and metrics of a service, the team's event stream (read for every role and scope; the SSE
  // operations are walked up to their headers); webhooks are written like other project resources
  streamServiceLogs: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  getServiceMetrics: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  streamTeamEvents: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  createWebhook: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  listWebhooks: { grid: ALL, anonymous: 'U', otherTeam: 'N' },
  deleteWebhook: { grid: WRITE, anonymous: 'U', otherTeam: 'N' },
  // the public HTTP ownership challenge answers a pending domain's token to anyone (the token is what it proves)
  answerDomainChallenge: { grid: ALL, anonymous: 'A', otherTeam: 'A' },
});

/** expectedOutcome reads the grid cell of a role and credential. */
export function expectedOutcome(row: MatrixRow, roleIndex: number, credential: Credential): Outcome {
  const group = row.grid.split(' ')[roleIndex] ?? '';
  const letter = group[Credentials.indexOf(credential)];
  if (letter !== 'A' && letter !== 'F' && letter !== 'N' && letter !== 'U' && letter !== 'C') {
    throw new Error(`bad grid ${row.grid}`);
  }
  return letter;
}
