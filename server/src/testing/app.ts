/**
 * The one test harness of the HTTP API: the app main.ts serves (createApp: every route, the ops endpoints, the
 * dashboard's static files) on a fresh Postgres database (createTestDatabase), in-process coordination, an in-memory
 * Mailer and a log captured line by line, listening on a random loopback port and called over real HTTP. Options
 * replace the clock, the public URL, the rate limits, the mailer, the secret store (Vault on a loopback KV v2
 * server), the DNS resolver and challenge fetcher of domain verification, and add configuration variables.
 * `Client` keeps cookies and the CSRF token like a browser would, or sends a bearer token. Used only by tests.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { MemoryMailer } from '../auth/mailer.ts';
import { DEFAULT_LIMITS, type AuthLimits } from '../auth/rate-limit.ts';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { ChallengeFetcher, DnsResolver } from '../domains/verification.ts';
import { createApp } from '../http/app.ts';
import type { OpenApiDocument } from '../http/openapi.ts';
import { loadConfig } from '../platform/config.ts';
import { createMemoryCoordination } from '../platform/coordination/index.ts';
import { createLogger } from '../platform/logger.ts';
import { createMetrics } from '../platform/metrics.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { Services } from '../services.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

/** TestApp is a running app and what tests inspect. */
export interface TestApp {
  /** url is the base URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** publicUrl is the configured DROVER_PUBLIC_URL. */
  publicUrl: string;
  /** dataDir is the app's DROVER_DATA_DIR (a fresh temporary folder, removed by close). */
  dataDir: string;
  /** db is the test database. */
  db: TestDatabase;
  /** services are the domain services behind the app (`services.projectDomains.secrets` is the secret store). */
  services: Services;
  /** openapi is the generated document. */
  openapi: OpenApiDocument;
  /** mailer holds every message sent. */
  mailer: MemoryMailer;
  /** logs holds every log line written. */
  logs: string[];
  /** close stops the server and drops the database. */
  close(): Promise<void>;
}

/** RELAXED_LIMITS lets a test log many users in from one address. */
export const RELAXED_LIMITS: AuthLimits = Object.fromEntries(
  Object.entries(DEFAULT_LIMITS).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([kk]) => [kk, { limit: 100_000, windowMs: 60_000 }]))]),
) as unknown as AuthLimits;

/** TestAppOptions replace parts of the app; every one is optional. */
export interface TestAppOptions {
  /** authLimits replace the rate limits (default RELAXED_LIMITS). */
  authLimits?: AuthLimits;
  /** clock replaces the system clock. */
  clock?: Clock;
  /** publicUrl is DROVER_PUBLIC_URL; defaults to an https URL (so cookies are Secure). */
  publicUrl?: string;
  /** mailer replaces the fresh MemoryMailer. */
  mailer?: MemoryMailer;
  /** secretStore builds the secret store over the test database (default: the one the configuration picks, Postgres). */
  secretStore?: (deps: { dataSource: DataSource }) => SecretStore;
  /** resolver replaces the system DNS resolver of domain verification. */
  resolver?: DnsResolver;
  /** fetcher replaces the HTTP challenge fetcher. */
  fetcher?: ChallengeFetcher;
  /** env adds configuration variables (DROVER_ALLOW_UNVERIFIED_DOMAINS…); DROVER_APPS_DOMAIN defaults to apps.example.test. */
  env?: Record<string, string>;
}

/** startTestApp boots the app on a fresh database; `close` undoes everything it started. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'drover-app-'));
  const publicUrl = options.publicUrl ?? 'https://drover.example.test';
  const config = loadConfig({
    NODE_ENV: 'test', DROVER_PUBLIC_URL: publicUrl, DROVER_DATA_DIR: dataDir, DROVER_SECRET_KEY: randomBytes(32).toString('hex'),
    DROVER_LOG_LEVEL: 'debug', DROVER_APPS_DOMAIN: 'apps.example.test', ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  const logger = createLogger('debug', sink);
  const coordination = createMemoryCoordination();
  const mailer = options.mailer ?? new MemoryMailer();
  const { koa, openapi, services } = createApp(
    { config, dataSource: db.dataSource, coordination, logger, metrics: createMetrics() },
    {
      clock: options.clock ?? systemClock,
      services: {
        mailer, authLimits: options.authLimits ?? RELAXED_LIMITS,
        ...(options.secretStore ? { secretStore: options.secretStore({ dataSource: db.dataSource }) } : {}),
        ...(options.resolver ? { resolver: options.resolver } : {}),
        ...(options.fetcher ? { fetcher: options.fetcher } : {}),
      },
    },
  );
  const server: Server = createServer(koa.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, publicUrl, dataDir, db, services, openapi, mailer, logs,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await coordination.close();
      await db.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reply is a response with its parsed body. */
export interface Reply {
  /** status is the HTTP status. */
  status: number;
  /** headers are the response headers. */
  headers: Headers;
  /** text is the raw body. */
  text: string;
  /** body is the parsed JSON body (undefined when empty or not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Client calls the app like a browser (cookies + CSRF header) or like the CLI (bearer token). */
export class Client {
  /** base is the app's URL. */
  readonly base: string;
  /** cookies are the cookies the server set, by name. */
  cookies = new Map<string, string>();
  /** bearer is the API token to send, if any. */
  bearer: string | undefined;
  /** csrf controls whether the CSRF header is sent on mutations (default true). */
  sendCsrf = true;
  constructor(base: string, bearer?: string) {
    this.base = base;
    this.bearer = bearer;
  }

  /** request sends one request and records Set-Cookie headers. */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.bearer) h.authorization = `Bearer ${this.bearer}`;
    if (this.cookies.size > 0) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const csrf = this.cookies.get('drover_csrf');
    if (this.sendCsrf && csrf && method !== 'GET') h['x-csrf-token'] = csrf;
    const res = await rawRequest(this.base + path, method, h, body === undefined ? undefined : JSON.stringify(body));
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair?.indexOf('=') ?? -1;
      if (!pair || i < 0) continue;
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === '' || /Expires=Thu, 01 Jan 1970/.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = res.text;
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  /** get, post, patch, put and del are shorthands of request. */
  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, undefined, headers);
  }
  /** post sends a JSON body. */
  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, body ?? {}, headers);
  }
  /** patch sends a JSON body. */
  patch(path: string, body: unknown) {
    return this.request('PATCH', path, body);
  }
  /** del sends a DELETE. */
  del(path: string) {
    return this.request('DELETE', path);
  }
}

/**
 * rawRequest sends one HTTP request with node:http, so tests can send any header — fetch silently replaces `Host`,
 * which would make a hostile-Host test pass for the wrong reason.
 */
export function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Headers; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        // An event stream never ends: its answer is the status and headers; the connection is closed at once.
        res.destroy();
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out.set(k, v);
        resolvePromise({ status: res.statusCode ?? 0, headers: out, text: '' });
        return;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (Array.isArray(v)) for (const x of v) out.append(k, x);
          else if (v !== undefined) out.set(k, v);
        }
        resolvePromise({ status: res.statusCode ?? 0, headers: out, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** testPassword makes a unique random password (unique per user, so a leak of one can be searched for). */
export function testPassword(): string {
  return `pw-${randomBytes(9).toString('base64url')}`;
}

/** setupOwner runs first-run setup and returns a logged-in client, the user and team IDs and the password. */
export async function setupOwner(app: TestApp, email = 'owner@example.test'): Promise<{ client: Client; userId: string; teamId: string; password: string; csrf: string }> {
  const client = new Client(app.url);
  const password = testPassword();
  const r = await client.post('/api/setup', { email, name: 'Owner', password, teamName: 'Acme', teamSlug: 'acme' });
  if (r.status !== 201) throw new Error(`setup failed: ${r.status} ${r.text}`);
  return { client, userId: r.body.user.id, teamId: r.body.team.id, password, csrf: r.body.csrfToken };
}

/** inviteAndJoin invites a new account into a team with a role and returns it logged in. */
export async function inviteAndJoin(
  app: TestApp, inviter: Client, teamId: string, email: string, role: string, projectIds?: string[],
): Promise<{ client: Client; userId: string; password: string }> {
  const inv = await inviter.post(`/api/teams/${teamId}/invitations`, { email, role, ...(projectIds ? { projectIds } : {}) });
  if (inv.status !== 201) throw new Error(`invite failed: ${inv.status} ${inv.text}`);
  const token = new URL(app.mailer.lastTo(email)?.link ?? '').hash.replace('#token=', '');
  const client = new Client(app.url);
  const password = testPassword();
  const r = await client.post('/api/invitations/accept', { token, name: email.split('@')[0], password });
  if (r.status !== 200) throw new Error(`accept failed: ${r.status} ${r.text}`);
  return { client, userId: r.body.userId, password };
}

/** ApiObject is a parsed JSON object answered by the API under test. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiObject = Record<string, any>;

/** expectStatus awaits a reply, asserts its status (default 200, the body in the message) and returns its JSON body. */
export async function expectStatus(p: Promise<{ status: number; body: unknown; text: string }>, status = 200): Promise<ApiObject> {
  const r = await p;
  assert.equal(r.status, status, r.text);
  return r.body as ApiObject;
}

/**
 * waitForDeployment polls `GET /api/deployments/:id` every 100 ms until its state is one of `states` and returns it;
 * past `timeoutMs` it fails with the deployment's step, reason and event log.
 */
export async function waitForDeployment(client: Client, id: string, states: string[], timeoutMs = 20_000): Promise<ApiObject> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await expectStatus(client.get(`/api/deployments/${id}`));
    if (states.includes(d.state)) return d;
    if (Date.now() > until) {
      const ev = await expectStatus(client.get(`/api/deployments/${id}/events`));
      const events = ev.items.map((e: { kind: string; message: string }) => `${e.kind}: ${e.message}`).join(' | ');
      assert.fail(`deployment ${id} is ${d.state} at ${d.step} (${d.reason}), expected ${states.join('|')}; events: ${events}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
