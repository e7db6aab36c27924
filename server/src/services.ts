/**
 * The service registry: builds every domain service from the platform adapters, injecting into each only what it
 * needs. Domains add their service here (one line each) and their routes in `routes.ts`.
 */
import { BackupRunner } from './backups/runner.ts';
import { clusterSettings } from './deployments/build.ts';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Clock } from './core/clock.ts';
import type { Config } from './platform/config.ts';
import type { Coordination } from './platform/coordination/index.ts';
import { PostgresAuditRecorder } from './audit/recorder.ts';
import { AuditService } from './audit/service.ts';
import { createAuthenticator } from './auth/authenticate.ts';
import { FileMailer, type Mailer } from './auth/mailer.ts';
import { RateLimiter, type AuthLimits } from './auth/rate-limit.ts';
import { AuthService } from './auth/service.ts';
import { SessionStore } from './auth/sessions.ts';
import type { ChallengeFetcher, DnsResolver } from './domains/verification.ts';
import { createClusterStatus } from './cluster-status/compose.ts';
import { BackupsService } from './backups/service.ts';
import { DatabasesService } from './databases/service.ts';
import { createDeploymentEngine, type DeploymentEngineDeps } from './deployments/engine.ts';
import { createNomadClient } from './cluster/nomad.ts';
import { createRuntimeServices, type RuntimeDeps } from './events/compose.ts';
import { recordingBus } from './events/log.ts';
import { createProjectDomainServices } from './projects/compose.ts';
import type { SecretStore } from './secrets/secret-store.ts';
import { TraefikTraffic } from './metrics/traefik.ts';
import { TeamAccess } from './teams/access.ts';
import { InvitationService } from './teams/invitations.ts';
import { TeamService } from './teams/service.ts';
import { TokenService } from './tokens/service.ts';
import type { Argon2Costs } from './users/password.ts';

/** ServiceDeps are the adapters services may be built from. */
export interface ServiceDeps {
  /** dataSource is the initialized TypeORM DataSource (migrations already run). */
  dataSource: DataSource;
  /** clock is the time source. */
  clock: Clock;
  /** config is the parsed configuration. */
  config: Config;
  /** coordination holds the rate-limit store, locks, cache and event bus (Redis or in-process). */
  coordination: Coordination;
  /** logger is the root logger; services log through children and never log secret values. */
  logger: Logger;
  /** mailer replaces the default outbox mailer (`<data dir>/outbox`); tests pass a MemoryMailer. */
  mailer?: Mailer;
  /** authLimits replace the default rate limits of the credential endpoints (tests that log in many users). */
  authLimits?: AuthLimits;
  /** argon2 replaces the default argon2id costs (never lower in production). */
  argon2?: Argon2Costs;
  /** secretStore replaces the secret store chosen from the configuration (tests: Vault on a loopback KV v2 server). */
  secretStore?: SecretStore;
  /** resolver replaces the system DNS resolver of domain verification (tests: a loopback DNS server). */
  resolver?: DnsResolver;
  /** fetcher replaces the HTTP challenge fetcher of domain verification. */
  fetcher?: ChallengeFetcher;
  /** runtime tunes logs, metrics, events and webhooks (tests: webhook resolver, the test-only loopback override, timings). */
  runtime?: Pick<RuntimeDeps, 'resolver' | 'allowLoopbackWebhooks' | 'delivery' | 'logSession' | 'sse' | 'metricsIntervalMs' | 'events'>;
  /** deployments tunes the deployment engine (tests: worker and reconciler timings, a Nomad client). */
  deployments?: Pick<DeploymentEngineDeps, 'nomad' | 'worker' | 'reconciler'>;
}

/** Services is every domain service, by domain. */
export type Services = ReturnType<typeof createServices>;

/** createServices builds the domain services. */
export function createServices(deps: ServiceDeps) {
  const { dataSource, clock } = deps;
  const publicUrl = deps.config.publicUrl.replace(/\/+$/, '');
  const audit = new PostgresAuditRecorder(dataSource, clock);
  const access = new TeamAccess(dataSource);
  const sessions = new SessionStore(dataSource, clock);
  const limiter = new RateLimiter(deps.coordination.rateLimits, deps.authLimits);
  const mailer = deps.mailer ?? new FileMailer(join(deps.config.dataDir, 'outbox'), deps.logger.child({ component: 'mailer' }));
  const argon2 = deps.argon2 ? { argon2: deps.argon2 } : {};
  // Deployment events are recorded in Postgres (their ids) before the coordination bus fans them out.
  const bus = recordingBus(deps.coordination.events, dataSource, clock, { retentionMs: deps.config.eventRetentionMs, ...deps.runtime?.events });
  const tokens = new TokenService({ dataSource, clock, audit, limiter });
  const teams = new TeamService({ dataSource, clock, audit, access });
  const invitations = new InvitationService({ dataSource, clock, audit, access, sessions, limiter, mailer, publicUrl, ...argon2 });
  const projectDomains = createProjectDomainServices({
    dataSource, clock, config: deps.config, access, audit, logger: deps.logger,
    ...(deps.secretStore ? { secretStore: deps.secretStore } : {}),
    ...(deps.resolver ? { resolver: deps.resolver } : {}),
    ...(deps.fetcher ? { fetcher: deps.fetcher } : {}),
  });
  const deployments = createDeploymentEngine({
    dataSource, config: deps.config, secrets: projectDomains.secrets, access, audit, clock, bus,
    logger: deps.logger, ...deps.deployments,
  });
  const authService = new AuthService({ dataSource, clock, audit, sessions, teams, limiter, mailer, publicUrl, ...argon2 });
  return {
    /** audit records mutations (every domain records through it, in its own transaction). */
    audit,
    /** access is the AccessChecker every domain calls. */
    access,
    /** auth groups the authenticator handed to buildHttpApp, the auth service and the session store. */
    auth: { authenticate: createAuthenticator({ sessions, tokens }), service: authService, sessions },
    tokens,
    teams,
    invitations,
    auditLog: new AuditService(dataSource, access),
    /** projectDomains are projects, environments, services, variables (SecretStore) and domains. */
    projectDomains,
    /** runtime is live logs, service metrics, team event streams and webhooks; main.ts starts their background work. */
    runtime: createRuntimeServices({
      dataSource, access, audit, clock, secrets: projectDomains.secrets, logger: deps.logger,
      nomad: deps.deployments?.nomad ?? createNomadClient(deps.config.nomad),
      bus, locks: deps.coordination.locks,
      ...(deps.config.traefikMetricsUrl ? { traffic: new TraefikTraffic({ url: deps.config.traefikMetricsUrl }) } : {}),
      ...deps.runtime,
    }),
    /** databases manages managed databases (credentials in the SecretStore; volumes are never deleted implicitly). */
    databases: new DatabasesService({ dataSource, clock, access, audit, secrets: projectDomains.secrets, volumePlugin: deps.config.volumePlugin, publicAccess: { ...deps.config.databasePublic, appsDomain: deps.config.appsDomain } }),
    /** backups manages backup destinations, schedules and backup records. */
    backups: new BackupsService({ dataSource, clock, access, audit, secrets: projectDomains.secrets }),
    /** backupRunner queues scheduled backups, runs queued ones as Nomad batch jobs and prunes; main.ts starts it. */
    backupRunner: new BackupRunner({
      dataSource, nomad: deployments.nomad, volumePlugin: deps.config.volumePlugin, secrets: projectDomains.secrets,
      // Backup, restore and verification jobs read credentials the way database jobs do: Vault KV when Drover has Vault.
      settings: clusterSettings(deps.config.appsDomain, deployments.vaultKvMount ? { kvMount: deployments.vaultKvMount } : undefined),
      ...(deployments.vault ? { vault: deployments.vault } : {}),
      access, audit, clock, bus, onError: (err) => deps.logger.warn({ err }, 'backup runner tick failed; retrying at the next tick'),
    }),
    /** deployments is the deployment engine (API service, worker, reconciler); main.ts starts it. */
    deployments,
    /** clusterStatus probes Nomad (through the engine's client), Consul and Vault for the status screen. */
    clusterStatus: createClusterStatus({ dataSource, nomad: deployments.nomad, config: deps.config }),
  };
}
