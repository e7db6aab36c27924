/**
 * Test app for the project domains: the real API (auth, teams, audit and the project-domain routes) on a fresh
 * Postgres database, served on a loopback port and called over real HTTP, with a captured log. The secret store,
 * DNS resolver and challenge fetcher can be replaced (a Vault store on a loopback KV v2 server, a resolver on a
 * loopback DNS server). Used only by tests.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MemoryMailer } from '../auth/mailer.ts';
import { RELAXED_LIMITS, type TestApp } from '../authz/harness.ts';
import { systemClock } from '../core/clock.ts';
import type { ChallengeFetcher, DnsResolver } from '../domains/verification.ts';
import { buildHttpApp } from '../http/koa.ts';
import { loadConfig } from '../platform/config.ts';
import { createMemoryCoordination } from '../platform/coordination/index.ts';
import { accessLogger, createLogger } from '../platform/logger.ts';
import { allRoutes } from '../routes.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { createServices } from '../services.ts';
import { createTestDatabase } from '../testing/db.ts';
import { createProjectDomainServices, projectDomainRoutes, type ProjectDomainServices } from './compose.ts';

/** DomainTestApp is a running test app with the project-domain services at hand. */
export interface DomainTestApp extends TestApp {
  /** domainServices are the project-domain services behind the routes. */
  domainServices: ProjectDomainServices;
}

/** DomainTestAppOptions replace adapters of the project domains. */
export interface DomainTestAppOptions {
  /** secretStore replaces the Postgres secret store. */
  secretStore?: (app: { dataSource: TestApp['db']['dataSource'] }) => SecretStore;
  /** resolver replaces the system DNS resolver. */
  resolver?: DnsResolver;
  /** fetcher replaces the HTTP challenge fetcher. */
  fetcher?: ChallengeFetcher;
  /** env adds configuration variables (DROVER_APPS_DOMAIN, DROVER_ALLOW_UNVERIFIED_DOMAINS…). */
  env?: Record<string, string>;
}

/** startDomainTestApp boots the app on a fresh database. */
export async function startDomainTestApp(options: DomainTestAppOptions = {}): Promise<DomainTestApp> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'drover-domains-'));
  const publicUrl = 'https://drover.example.test';
  const config = loadConfig({
    NODE_ENV: 'test', DROVER_PUBLIC_URL: publicUrl, DROVER_DATA_DIR: dataDir, DROVER_SECRET_KEY: randomBytes(32).toString('hex'),
    DROVER_LOG_LEVEL: 'debug', DROVER_APPS_DOMAIN: 'apps.example.test', ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  const logger = createLogger('debug', sink);
  const coordination = createMemoryCoordination();
  const mailer = new MemoryMailer();
  const services = createServices({ dataSource: db.dataSource, clock: systemClock, config, coordination, logger, mailer, authLimits: RELAXED_LIMITS });
  const overridden = options.secretStore !== undefined || options.resolver !== undefined || options.fetcher !== undefined;
  const domainServices = !overridden ? services.projectDomains : createProjectDomainServices({
    dataSource: db.dataSource, clock: systemClock, config, access: services.access, audit: services.audit, logger,
    ...(options.secretStore ? { secretStore: options.secretStore({ dataSource: db.dataSource }) } : {}),
    ...(options.resolver ? { resolver: options.resolver } : {}),
    ...(options.fetcher ? { fetcher: options.fetcher } : {}),
  });
  // With replaced adapters, the project-domain routes are rebuilt over the replacement services.
  const ours = new Set(projectDomainRoutes(services.projectDomains).map((r) => r.operationId));
  const base = allRoutes(services).filter((r) => !ours.has(r.operationId));
  const { app, openapi } = buildHttpApp({
    routes: [...base, ...projectDomainRoutes(domainServices)], authenticate: services.auth.authenticate, log: accessLogger(logger), trustProxy: false,
    info: { title: 'Drover API', version: 'test' },
  });
  const server: Server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, publicUrl, db, services, openapi, mailer, logs, domainServices,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await coordination.close();
      await db.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
