/**
 * Test kit of the runtime domains (tests only): the real app on a fresh Postgres, a Nomad double over HTTP, Redis
 * coordination on the shared test Redis, and the runtime routes served on their own loopback port (authenticated by
 * the app's authenticator, over the same database). `deployService` creates a service through the API and registers
 * a job for it in the double, as the deployment engine would. A second kit started with `peer` is another replica:
 * the same database, Redis prefix, configuration and Nomad double, its own runtime services and HTTP port.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { AllocationListStub } from '@drover/scheduler/nomad/index.ts';
import { startNomadDouble, type NomadDouble, type NomadDoubleOptions } from '@drover/scheduler/testing/nomad-double/index.ts';
import { buildHttpApp } from '../http/koa.ts';
import { createRedisCoordination, type Coordination } from '../platform/coordination/index.ts';
import { accessLogger, createLogger } from '../platform/logger.ts';
import type { ServiceTarget } from '../logs/target.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryMailer } from '../auth/mailer.ts';
import { authRoutes } from '../auth/routes.ts';
import { systemClock } from '../core/clock.ts';
import { loadConfig, type Config } from '../platform/config.ts';
import { projectDomainRoutes } from '../projects/compose.ts';
import { createServices, type Services } from '../services.ts';
import { teamRoutes } from '../teams/routes.ts';
import { tokenRoutes } from '../tokens/routes.ts';
import { Client, RELAXED_LIMITS, testPassword } from '../testing/app.ts';
import { createTestDatabase, type TestDatabase } from '../testing/db.ts';
import { testRedisUrl, uniqueRedisPrefix } from '../testing/redis.ts';
import { createRuntimeServices, runtimeRoutes, type RuntimeDeps, type RuntimeServices } from './compose.ts';

/** RuntimeKit is a running kit. */
export interface RuntimeKit {
  /** app holds the database, the domain services and the mailer. */
  app: { db: TestDatabase; services: Services; mailer: MemoryMailer; url: string };
  /** url is the runtime routes' base URL. */
  url: string;
  /** owner is the first owner, logged in on the main app. */
  owner: { client: Client; teamId: string; userId: string };
  /** client calls the runtime routes with the owner's session. */
  client: Client;
  /** double is the Nomad double. */
  double: NomadDouble;
  /** nomad is a client of the double. */
  nomad: NomadClient;
  /** coordination is Redis coordination with a unique prefix (shared with peers). */
  coordination: Coordination;
  /** bus is the recording bus: events published through it are recorded in the event log, then fanned out. */
  bus: RuntimeServices['bus'];
  /** shared holds what a peer replica shares (the database, Redis prefix, configuration). */
  readonly shared: { db: TestDatabase; redisPrefix: string; config: Config; dataDir: string };
  /** runtime are the runtime services under test. */
  runtime: RuntimeServices;
  /** as returns a runtime client carrying `c`'s session. */
  as(c: Client): Client;
  /** deployService creates a service in a new project and runs a job of `count` allocations for it in the double. */
  deployService(c?: Client, teamId?: string, count?: number): Promise<{ target: ServiceTarget; allocs: AllocationListStub[] }>;
  /** close stops everything. */
  close(): Promise<void>;
}

/** startRuntimeKit starts a kit; `runtime` overrides parts of the runtime deps. */
export async function startRuntimeKit(opts: { double?: NomadDoubleOptions; runtime?: Partial<RuntimeDeps>; peer?: RuntimeKit } = {}): Promise<RuntimeKit> {
  const peer = opts.peer;
  const db = peer ? peer.shared.db : await createTestDatabase();
  const dataDir = peer ? peer.shared.dataDir : mkdtempSync(join(tmpdir(), 'drover-runtime-'));
  const config = peer ? peer.shared.config : loadConfig({
    NODE_ENV: 'test', DROVER_PUBLIC_URL: 'http://drover.example.test', DROVER_DATA_DIR: dataDir, DROVER_SECRET_KEY: randomBytes(32).toString('hex'),
    DROVER_LOG_LEVEL: 'warn', DROVER_APPS_DOMAIN: 'apps.example.test',
  });
  const logger = createLogger('warn');
  const redisPrefix = peer ? peer.shared.redisPrefix : uniqueRedisPrefix();
  const coordination = await createRedisCoordination({ url: testRedisUrl(), prefix: redisPrefix });
  const mailer = peer ? peer.app.mailer : new MemoryMailer();
  const services = createServices({ dataSource: db.dataSource, clock: systemClock, config, coordination, logger, mailer, authLimits: RELAXED_LIMITS });
  const double = peer ? peer.double : await startNomadDouble({ stepMs: 10, logHeartbeatMs: 200, eventHeartbeatMs: 500, ...opts.double });
  const nomad = new NomadClient({ address: double.url, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } });
  const runtime = createRuntimeServices({
    dataSource: db.dataSource, access: services.access, nomad, logger, bus: coordination.events, locks: coordination.locks,
    events: { pruneIntervalMs: 3_600_000 },
    secrets: services.projectDomains.secrets, audit: services.audit, allowLoopbackWebhooks: true,
    logSession: { pollMs: 200 }, sse: { heartbeatMs: 1_000 }, ...opts.runtime,
  });
  // The routes a runtime test needs (the app's own route registry is not used, so other domains' work cannot break it).
  const { app: koa } = buildHttpApp({
    routes: [
      ...authRoutes(services.auth.service), ...tokenRoutes(services.tokens),
      ...teamRoutes(services.teams, services.invitations, services.auth.service.cookieSecure),
      ...projectDomainRoutes(services.projectDomains), ...runtimeRoutes(runtime),
    ],
    authenticate: services.auth.authenticate, log: accessLogger(logger), trustProxy: false,
    info: { title: 'runtime', version: 'test' },
  });
  const server: Server = createServer(koa.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const as = (c: Client): Client => {
    const x = new Client(url, c.bearer);
    x.cookies = c.cookies;
    return x;
  };
  let owner: { client: Client; teamId: string; userId: string };
  if (peer) {
    owner = { ...peer.owner, client: as(peer.owner.client) };
  } else {
    const first = new Client(url);
    const setup = await first.post('/api/setup', { email: 'owner@example.test', name: 'Owner', password: testPassword(), teamName: 'Acme', teamSlug: 'acme' });
    if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${setup.text}`);
    owner = { client: first, teamId: setup.body.team.id as string, userId: setup.body.user.id as string };
  }
  const app = { db, services, mailer, url };
  const client = owner.client;
  async function deployService(c: Client = owner.client, teamId: string = owner.teamId, count = 1) {
    const slug = `p${randomBytes(3).toString('hex')}`;
    const p = await c.post(`/api/teams/${teamId}/projects`, { slug, name: slug });
    if (p.status !== 201) throw new Error(`project: ${p.status} ${p.text}`);
    const envs = await c.get(`/api/projects/${p.body.id}/environments`);
    const envId = envs.body.items[0]?.id as string;
    const s = await c.post(`/api/environments/${envId}/services`, { slug: 'web', name: 'web', image: 'nginx:1.27', port: 8080 });
    if (s.status !== 201) throw new Error(`service: ${s.status} ${s.text}`);
    const target = (await runtime.targets.all()).find((t) => t.serviceId === s.body.id);
    if (!target) throw new Error('no target');
    double.control.createNamespace(target.namespace);
    await nomad.jobs.register({
      ID: target.jobId, Name: target.jobId, Namespace: target.namespace, Type: 'service', Datacenters: ['*'],
      Meta: { 'drover.team': target.teamId, 'drover.service': target.serviceId },
      TaskGroups: [{
        Name: 'web', Count: count,
        Networks: [{ Mode: 'bridge', DynamicPorts: [{ Label: 'http', To: 8080 }] }],
        Tasks: [{ Name: 'web', Driver: 'docker', Config: { image: 'nginx:1.27', ports: ['http'] }, Resources: { CPU: 200, MemoryMB: 128 } }],
      }],
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const allocs = (await nomad.jobs.allocations(target.jobId, {}, { namespace: target.namespace })).data.filter((a) => a.ClientStatus === 'running');
      if (allocs.length >= count) return { target, allocs };
      if (Date.now() > deadline) throw new Error('allocations did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    app, url, owner, client, double, nomad, coordination, bus: runtime.bus, runtime, as, deployService,
    shared: { db, redisPrefix, config, dataDir },
    close: async () => {
      await runtime.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await nomad.destroy();
      if (!peer) await double.close();
      await coordination.close();
      if (peer) return; // the first kit owns the database and the data directory
      await db.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** SseEventRead is one parsed event of a stream. */
export interface SseEventRead {
  /** id is the event's id, if any. */
  id?: string;
  /** event is the event's name (default message). */
  event: string;
  /** data is its data. */
  data: string;
}

/** SseReader reads a text/event-stream response event by event over fetch. */
export class SseReader {
  /** status is the response status. */
  readonly status: number;
  /** events are every event read so far. */
  readonly events: SseEventRead[] = [];
  /** ended tells whether the server ended the stream. */
  ended = false;
  private readonly abort: AbortController;
  private readonly waiters = new Set<() => void>();

  private constructor(res: Response, abort: AbortController) {
    this.status = res.status;
    this.abort = abort;
    void this.pump(res);
  }

  /** open connects to `url` with the client's credentials and extra headers. */
  static async open(c: Client, path: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const abort = new AbortController();
    const h: Record<string, string> = { accept: 'text/event-stream', ...headers };
    if (c.bearer) h.authorization = `Bearer ${c.bearer}`;
    if (c.cookies.size > 0) h.cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(c.base + path, { headers: h, signal: abort.signal });
    return new SseReader(res, abort);
  }

  /** until waits for an event matching `pred` (checking those read already), or fails after `ms`. */
  async until(pred: (e: SseEventRead, all: SseEventRead[]) => boolean, ms = 10_000): Promise<SseEventRead> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.events.find((e) => pred(e, this.events));
      if (hit) return hit;
      if (this.ended) throw new Error(`stream ended without the event; got ${JSON.stringify(this.events).slice(0, 500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.events).slice(0, 500)}`);
      await new Promise<void>((r) => {
        const waiters = this.waiters;
        const t = setTimeout(done, left);
        function done() { clearTimeout(t); waiters.delete(done); r(); }
        waiters.add(done);
      });
    }
  }

  /** text is the concatenated text of every `log` event so far. */
  logText(): string {
    return this.events.filter((e) => e.event === 'log').map((e) => (JSON.parse(e.data) as { text: string }).text).join('');
  }

  /** close disconnects. */
  close(): void {
    this.abort.abort();
  }

  private async pump(res: Response): Promise<void> {
    let buf = '';
    const dec = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: SseEventRead = { event: 'message', data: '' };
          const data: string[] = [];
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const k = line.indexOf(':');
            const name = k < 0 ? line : line.slice(0, k);
            const value = k < 0 ? '' : line.slice(k + 1).replace(/^ /, '');
            if (name === 'id') e.id = value;
            else if (name === 'event') e.event = value;
            else if (name === 'data') data.push(value);
            else continue;
            any = true;
          }
          if (!any || (data.length === 0 && e.id === undefined)) continue;
          e.data = data.join('\n');
          this.events.push(e);
        }
        for (const w of [...this.waiters]) w();
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
    for (const w of [...this.waiters]) w();
  }
}

/** until polls `cond` every 20 ms until it holds, or fails after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${cond.toString().slice(0, 120)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
