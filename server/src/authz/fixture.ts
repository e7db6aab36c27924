/**
 * The matrix test's fixture: principals (one user per role in the first team, each with a session and a token of
 * every scope; the owner of a second team; nobody), a world of the first team's resources built by CREATORS — a table
 * keyed by path parameter name, so a new resource is one entry — and EXAMPLES, a body for every mutation keyed by
 * operationId. Names carry a marker so the test can prove no answer to an outsider mentions them.
 */
import { randomBytes } from 'node:crypto';
import { Roles, Scopes, type Role, type Scope } from '../core/actor.ts';
import { Client, testPassword, type TestApp } from '../testing/app.ts';

/** Principal is a user with a session and a token of every scope. */
export interface Principal {
  /** label names the principal in failure messages. */
  label: string;
  /** userId is the user's ID. */
  userId: string;
  /** email is the user's email. */
  email: string;
  /** password is the user's password. */
  password: string;
  /** session is a logged-in cookie client. */
  session: Client;
  /** tokens are bearer clients by scope. */
  tokens: Record<Scope, Client>;
  /** tokenIds are the IDs of those tokens. */
  tokenIds: Record<Scope, string>;
}

/** Fixture is everything the walk needs. */
export interface Fixture {
  /** app is the running app. */
  app: TestApp;
  /** founder set Drover up and owns the first team; it creates the world (it is not one of the walked principals). */
  founder: Principal;
  /** members are the walked principals of the first team, by role. */
  members: Record<Role, Principal>;
  /** outsider owns a second team and nothing of the first. */
  outsider: Principal;
  /** world maps a path parameter name to the ID of a first-team resource. */
  world: Record<string, string>;
  /** emails maps user IDs made by creators to their email and password. */
  accounts: Map<string, { email: string; password: string }>;
  /** hosts maps a domain challenge token to its hostname (the challenge answers only with that Host). */
  hosts: Map<string, string>;
  /** limited is a member of the first team limited to another project than the world's. */
  limited: Principal;
  /** projectLeaks are the IDs and names of the world's project and everything in it (hidden from `limited`). */
  projectLeaks: Set<string>;
  /** secrets are values only their issuing or revealing answer may carry: passwords, sessions, tokens, variable values. */
  secrets: Set<string>;
  /** leaks are the IDs and names of first-team resources that must never reach an outsider. */
  leaks: Set<string>;
}

/** CreatorContext is what a creator gets: the fixture, the IDs made so far, and whose resource it makes. */
export interface CreatorContext {
  /** f is the fixture. */
  f: Fixture;
  /** ids are the parameters resolved so far (a creator may read its parents). */
  ids: Record<string, string>;
  /** subject is the principal a per-user resource (an API token) belongs to. */
  subject: Principal;
}

/** Creator makes one resource of the first team and returns the value of its path parameter. */
export interface Creator {
  /** needs lists the parameters that must be resolved first. */
  needs: string[];
  /** create makes the resource. */
  create(c: CreatorContext): Promise<string>;
}

let seq = 0;
/** marker returns a unique, searchable name fragment of the first team. */
export function marker(kind: string): string {
  seq += 1;
  return `alpha${kind}${seq}${randomBytes(3).toString('hex')}`;
}

async function ok(r: Promise<{ status: number; text: string; body: unknown }>, what: string, status?: number): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const x = await r;
  if (status !== undefined ? x.status !== status : x.status >= 300) throw new Error(`fixture: ${what} answered ${x.status} ${x.text}`);
  return x.body;
}

/** inviteAccount invites a fresh email into a team with a role, accepts it, and returns the new account. */
export async function inviteAccount(
  f: Fixture, inviter: Client, teamId: string, role: Role, label: string, projectIds?: string[],
): Promise<{ userId: string; email: string; password: string; session: Client }> {
  const email = `${label}-${randomBytes(4).toString('hex')}@example.test`;
  const inv = await ok(inviter.post(`/api/teams/${teamId}/invitations`, { email, role, ...(projectIds ? { projectIds } : {}) }), `invite ${label}`);
  const token = new URL(inv.acceptUrl).hash.replace('#token=', '');
  const session = new Client(f.app.url);
  const password = testPassword();
  const r = await ok(session.post('/api/invitations/accept', { token, name: label, password }), `accept ${label}`);
  f.accounts.set(r.userId, { email, password });
  return { userId: r.userId, email, password, session };
}

/** CREATORS makes each kind of first-team resource, keyed by the path parameter that names it. */
export const CREATORS: Readonly<Record<string, Creator>> = {
  teamId: {
    needs: [],
    // A fresh team where every walked principal holds its role (for operations that destroy the team).
    async create({ f }) {
      const name = marker('team');
      const t = await ok(f.founder.session.post('/api/teams', { name }), 'create team');
      f.leaks.add(t.id).add(t.slug).add(name);
      for (const role of Roles) {
        await f.app.db.dataSource.query(
          'INSERT INTO team_members (team_id, user_id, role, project_ids, created_at) VALUES ($1, $2, $3, NULL, now())',
          [t.id, f.members[role].userId, role],
        );
      }
      return t.id as string;
    },
  },
  userId: {
    needs: ['teamId'],
    async create({ f, ids }) {
      const a = await inviteAccount(f, f.founder.session, ids.teamId ?? '', 'viewer', marker('user'));
      f.leaks.add(a.userId).add(a.email);
      return a.userId;
    },
  },
  invitationId: {
    needs: ['teamId'],
    async create({ f, ids }) {
      const email = `${marker('inv')}@example.test`;
      const inv = await ok(f.founder.session.post(`/api/teams/${ids.teamId}/invitations`, { email, role: 'member' }), 'invite');
      f.leaks.add(inv.id).add(email);
      return inv.id as string;
    },
  },
  tokenId: {
    needs: [],
    async create({ subject }) {
      const t = await ok(subject.session.post('/api/tokens', { name: marker('token'), scopes: ['read'] }), 'create token');
      return t.id as string;
    },
  },
  projectId: {
    needs: ['teamId'],
    async create({ f, ids }) {
      const slug = marker('p').slice(0, 30);
      const p = await ok(f.founder.session.post(`/api/teams/${ids.teamId}/projects`, { slug, name: slug }), 'create project');
      f.leaks.add(p.id).add(slug);
      f.projectLeaks.add(p.id).add(slug);
      return p.id as string;
    },
  },
  environmentId: {
    needs: ['projectId'],
    async create({ f, ids }) {
      const slug = marker('e').slice(0, 30);
      const e = await ok(f.founder.session.post(`/api/projects/${ids.projectId}/environments`, { slug, name: slug }), 'create environment');
      f.leaks.add(e.id).add(slug);
      f.projectLeaks.add(e.id).add(slug);
      return e.id as string;
    },
  },
  serviceId: {
    needs: ['environmentId'],
    async create({ f, ids }) {
      const slug = marker('s').slice(0, 30);
      const s = await ok(f.founder.session.post(`/api/environments/${ids.environmentId}/services`, {
        slug, name: slug, image: 'nginx:1.27', port: 8080,
      }), 'create service');
      f.leaks.add(s.id).add(slug);
      f.projectLeaks.add(s.id).add(slug);
      return s.id as string;
    },
  },
  variableKey: {
    needs: ['serviceId', 'environmentId'],
    // The same key is set on the service and shared in its environment, so both variable paths find it.
    async create({ f, ids }) {
      const key = `ALPHA_${randomBytes(4).toString('hex').toUpperCase()}`;
      const value = `alpha-secret-${randomBytes(8).toString('hex')}`;
      await ok(f.founder.session.request('PUT', `/api/services/${ids.serviceId}/variables`, { variables: { [key]: value } }), 'set service variable');
      await ok(f.founder.session.request('PUT', `/api/environments/${ids.environmentId}/variables`, { variables: { [key]: value } }), 'set shared variable');
      f.leaks.add(key).add(value);
      f.projectLeaks.add(key).add(value);
      f.secrets.add(value);
      return key;
    },
  },
  databaseId: {
    needs: ['environmentId'],
    async create({ f, ids }) {
      const name = marker('db').slice(0, 30);
      const d = await ok(f.founder.session.post(`/api/environments/${ids.environmentId}/databases`, { name, engine: 'postgres', version: '17' }), 'create database');
      f.leaks.add(d.id).add(name);
      f.projectLeaks.add(d.id).add(name);
      DATABASE_NAMES.set(d.id as string, name);
      return d.id as string;
    },
  },
  backupId: {
    needs: ['databaseId'],
    // A queued backup of the world's database (no runner in the walk: it never succeeds, so restore and verify are 409).
    async create({ f, ids }) {
      const b = await ok(f.founder.session.post(`/api/databases/${ids.databaseId}/backups`, { destinationId: await destinationFor(f) }), 'request backup', 202);
      f.leaks.add(b.id);
      f.projectLeaks.add(b.id);
      return b.id as string;
    },
  },
  domainId: {
    needs: ['serviceId'],
    async create({ f, ids }) {
      const hostname = `${marker('d')}.example.test`;
      const d = await ok(f.founder.session.post(`/api/services/${ids.serviceId}/domains`, { hostname }), 'add domain');
      f.leaks.add(d.id).add(hostname);
      f.projectLeaks.add(d.id).add(hostname);
      return d.id as string;
    },
  },
  webhookId: {
    needs: ['projectId'],
    async create({ f, ids }) {
      const description = marker('wh');
      const w = await ok(f.founder.session.post(`/api/projects/${ids.projectId}/webhooks`, { url: 'https://93.184.216.34/drover-hook', description }), 'create webhook');
      f.leaks.add(w.id).add(description);
      f.projectLeaks.add(w.id).add(description);
      return w.id as string;
    },
  },
  deploymentId: {
    needs: ['projectId'],
    // A queued deployment of a service in an environment of its own (so deploying the world's service or environment
    // does not supersede it); no worker runs in the walk, so it stays queued until cancelled.
    async create({ f, ids }) {
      const slug = marker('de').slice(0, 30);
      const e = await ok(f.founder.session.post(`/api/projects/${ids.projectId}/environments`, { slug, name: slug }), 'create deploy environment');
      const s = await ok(f.founder.session.post(`/api/environments/${e.id}/services`, { slug, name: slug, image: 'nginx:1.27', port: 8080 }), 'create deploy service');
      const d = await ok(f.founder.session.post(`/api/services/${s.id}/deployments`, {}), 'deploy', 202);
      f.leaks.add(d.id).add(slug).add(d.jobId);
      f.projectLeaks.add(d.id).add(slug).add(d.jobId);
      return d.id as string;
    },
  },
  token: {
    needs: ['domainId'],
    // The HTTP ownership challenge token of the pending domain.
    async create({ f, ids }) {
      const d = await ok(f.founder.session.get(`/api/domains/${ids.domainId}`), 'get domain');
      const token = String(d.verification?.dnsRecord?.value ?? '');
      f.hosts.set(token, d.hostname);
      return token;
    },
  },
};

/** destinationFor returns a backup destination of the first team, made once by the founder. */
let destination: Promise<string> | undefined;
async function destinationFor(f: Fixture): Promise<string> {
  destination ??= ok(f.founder.session.post(`/api/teams/${f.world.teamId}/backup-destinations`, {
    name: marker('dest'), endpoint: 'https://s3.example.test', bucket: 'drover-matrix', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: `sk-${randomBytes(8).toString('hex')}`,
  }), 'create destination').then((d: { id: string }) => d.id);
  return destination;
}

/** DATABASE_NAMES are the names of the databases the creator made (destroying a volume is confirmed by typing it). */
const DATABASE_NAMES = new Map<string, string>();

/** HEADERS adds request headers to an operation's calls, by operationId. */
export const HEADERS: Readonly<Record<string, (c: ExampleContext) => Record<string, string>>> = {
  answerDomainChallenge: ({ f, ids }) => ({ host: f.hosts.get(ids.token ?? '') ?? 'unknown.example.test' }),
  destroyDatabaseVolume: ({ ids }) => ({ 'drover-confirm': DATABASE_NAMES.get(ids.databaseId ?? '') ?? 'unknown' }),
};

/** ExampleContext is what an example body builder gets. */
export interface ExampleContext {
  /** f is the fixture. */
  f: Fixture;
  /** ids are the resolved path parameters of the call. */
  ids: Record<string, string>;
  /** caller is the principal making the call (null without credentials). */
  caller: Principal | null;
  /** subject is whose resources the call targets: the caller in the grid, the first team's founder in probes. */
  subject: Principal;
}

/** EXAMPLES builds a valid body for every mutation, by operationId. */
export const EXAMPLES: Readonly<Record<string, (c: ExampleContext) => unknown>> = {
  completeSetup: () => ({ email: `late-${randomBytes(3).toString('hex')}@example.test`, name: 'Late', password: testPassword(), teamName: 'Late' }),
  // The caller logs in as itself (without credentials: as the outsider, whose answer holds nothing of the first team).
  login: ({ f, caller }) => ({ email: (caller ?? f.outsider).email, password: (caller ?? f.outsider).password }),
  logout: () => ({}),
  requestPasswordReset: () => ({ email: 'nobody@example.test' }),
  confirmPasswordReset: async ({ f, ids }) => {
    const a = f.accounts.get(ids.userId ?? '');
    await ok(new Client(f.app.url).post('/api/auth/password-reset', { email: a?.email }), 'request reset', 202);
    const link = f.app.mailer.lastTo(a?.email ?? '')?.link ?? '';
    const password = testPassword();
    if (a) a.password = password;
    return { token: new URL(link).hash.replace('#token=', ''), password };
  },
  createToken: () => ({ name: marker('tok'), scopes: ['read'] }),
  createTeam: () => ({ name: `team ${randomBytes(3).toString('hex')}` }),
  updateTeam: () => ({ name: marker('renamed') }),
  updateMember: () => ({ role: 'viewer' }),
  createInvitation: () => ({ email: `${marker('inv')}@example.test`, role: 'viewer' }),
  createProject: () => ({ slug: marker('p').slice(0, 30) }),
  updateProject: () => ({ name: marker('renamed') }),
  createEnvironment: () => ({ slug: marker('e').slice(0, 30) }),
  updateEnvironment: () => ({ name: marker('renamed') }),
  duplicateEnvironment: () => ({ slug: marker('dup').slice(0, 30) }),
  createService: () => ({ slug: marker('s').slice(0, 30), image: 'ghcr.io/acme/web:1.4.2', port: 8080 }),
  updateService: () => ({ name: marker('renamed'), replicas: 2 }),
  putServiceVariables: () => ({ variables: { EXAMPLE_SET: `v-${randomBytes(4).toString('hex')}`, EXAMPLE_GONE: null } }),
  putSharedVariables: () => ({ variables: { EXAMPLE_SHARED: `v-${randomBytes(4).toString('hex')}` } }),
  addDomain: () => ({ hostname: `${marker('d')}.example.test` }),
  createDatabase: () => ({ name: marker('db').slice(0, 30), engine: 'redis', sizeGiB: 2 }),
  updateDatabase: () => ({ version: '16' }),
  createBackupDestination: () => ({ name: marker('dest'), endpoint: 'https://s3.example.test', bucket: 'drover-matrix', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: `sk-${randomBytes(8).toString('hex')}` }),
  putBackupSchedule: async ({ f }) => ({ destinationId: await destinationFor(f), cron: '0 2 * * *', keep: 7 }),
  createBackup: async ({ f }) => ({ destinationId: await destinationFor(f) }),
  restoreBackup: () => ({}),
  verifyBackup: () => ({}),
  createServiceDeployment: () => ({ reason: 'matrix walk' }),
  createWebhook: () => ({ url: 'https://93.184.216.34/drover-hook', events: ['deployment.healthy'], description: 'matrix walk' }),
  createEnvironmentDeployment: () => ({ reason: 'matrix walk' }),
  createDatabaseDeployment: () => ({ reason: 'matrix walk' }),
  rollbackDeployment: () => ({ reason: 'matrix walk' }),
  scaleService: () => ({ replicas: 2 }),
  // An invitation into a fresh team of the founder, for the caller in the grid and for the first team's viewer in
  // probes (so an outsider holds someone else's invitation).
  acceptInvitation: async ({ f, subject }) => {
    const t = await ok(f.founder.session.post('/api/teams', { name: `invite ${randomBytes(3).toString('hex')}` }), 'create team');
    const email = (subject === f.founder ? f.members.viewer : subject).email;
    const inv = await ok(f.founder.session.post(`/api/teams/${t.id}/invitations`, { email, role: 'viewer' }), 'invite');
    return { token: new URL(inv.acceptUrl).hash.replace('#token=', '') };
  },
};

/** FRESH_CREDENTIAL lists operations that consume the caller's session (it is replaced by a fresh login first). */
export const FRESH_CREDENTIAL: ReadonlySet<string> = new Set(['login', 'logout']);

/** makePrincipal logs an account in and gives it a token of every scope. */
export async function makePrincipal(app: TestApp, label: string, a: { userId: string; email: string; password: string; session: Client }): Promise<Principal> {
  const tokens = {} as Record<Scope, Client>;
  const tokenIds = {} as Record<Scope, string>;
  for (const s of Scopes) {
    const t = await ok(a.session.post('/api/tokens', { name: `${label}-${s}`, scopes: [s] }), `token ${s}`);
    tokens[s] = new Client(app.url, t.token);
    tokenIds[s] = t.id;
  }
  return { label, userId: a.userId, email: a.email, password: a.password, session: a.session, tokens, tokenIds };
}

/** freshSession logs a principal in again and returns the new cookie client. */
export async function freshSession(app: TestApp, p: Principal): Promise<Client> {
  const c = new Client(app.url);
  await ok(c.post('/api/auth/login', { email: p.email, password: p.password }), `login ${p.label}`);
  return c;
}

/** buildFixture sets Drover up and builds the principals and the base world. */
export async function buildFixture(app: TestApp, pathParams: Set<string>): Promise<Fixture> {
  const founderSession = new Client(app.url);
  const founderPassword = testPassword();
  const teamName = marker('team');
  const s = await ok(founderSession.post('/api/setup', { email: 'founder@example.test', name: 'Founder', password: founderPassword, teamName }), 'setup');
  const f: Fixture = {
    app, founder: undefined as unknown as Principal, members: {} as Record<Role, Principal>, outsider: undefined as unknown as Principal,
    world: { teamId: s.team.id }, accounts: new Map(), hosts: new Map(), limited: undefined as unknown as Principal,
    projectLeaks: new Set(), secrets: new Set(), leaks: new Set([s.team.id, s.team.slug, teamName]),
  };
  f.founder = await makePrincipal(app, 'founder', { userId: s.user.id, email: 'founder@example.test', password: founderPassword, session: founderSession });
  for (const role of Roles) {
    const a = await inviteAccount(f, founderSession, s.team.id, role, `m-${role}`);
    f.members[role] = await makePrincipal(app, role, a);
  }
  // The outsider: owner of team Bravo only (the founder creates it, invites them as owner, and leaves).
  const bravo = await ok(founderSession.post('/api/teams', { name: 'Bravo' }), 'create bravo');
  const o = await inviteAccount(f, founderSession, bravo.id, 'owner', 'outsider');
  await ok(founderSession.del(`/api/teams/${bravo.id}/members/${s.user.id}`), 'founder leaves bravo', 204);
  f.outsider = await makePrincipal(app, 'outsider', o);
  for (const p of [...Object.values(f.members), f.founder]) f.leaks.add(p.userId).add(p.email);
  // The base world: one of every resource the document's paths name (teamId is the first team itself).
  await resolve(f, [...pathParams].filter((p) => p !== 'teamId'), f.world, f.founder);
  // A member limited to another project of the first team (when the document has projects).
  const elsewhere = pathParams.has('projectId')
    ? [(await ok(founderSession.post(`/api/teams/${s.team.id}/projects`, { slug: 'elsewhere' }), 'create project elsewhere')).id as string]
    : [];
  f.limited = await makePrincipal(app, 'limited', await inviteAccount(f, founderSession, s.team.id, 'member', 'limited', elsewhere));
  for (const p of [f.founder, f.outsider, f.limited, ...Object.values(f.members)]) {
    f.secrets.add(p.password).add(p.session.cookies.get('drover_session') ?? '').add(p.session.cookies.get('drover_csrf') ?? '');
    for (const t of Object.values(p.tokens)) f.secrets.add(t.bearer ?? '');
  }
  f.secrets.delete('');
  return f;
}

/** resolve makes the resources named by `params` (and their parents) that `ids` lacks, in dependency order. */
export async function resolve(f: Fixture, params: string[], ids: Record<string, string>, subject: Principal): Promise<void> {
  for (const p of params) {
    if (ids[p] !== undefined) continue;
    const creator = CREATORS[p];
    if (!creator) throw new Error(`no creator for path parameter "${p}": add one to CREATORS in authz/fixture.ts`);
    await resolve(f, creator.needs, ids, subject);
    ids[p] = await creator.create({ f, ids, subject });
  }
}
