/**
 * compose: builds the project-domain services (projects, environments, services, variables, domains) and their
 * secret store from the platform adapters, and lists their routes. `services.ts` and `routes.ts` call these.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { generatedDomain } from '@drover/scheduler/compiler/names.ts';
import { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import type { AccessChecker } from '../core/access.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { domainRoutes } from '../domains/domains.routes.ts';
import { DomainsService } from '../domains/domains.service.ts';
import { HttpChallengeFetcher, SystemDnsResolver, type ChallengeFetcher, type DnsResolver } from '../domains/verification.ts';
import { environmentRoutes } from '../environments/environments.routes.ts';
import { EnvironmentsService } from '../environments/environments.service.ts';
import type { AnyRoute } from '../http/route.ts';
import { secretKeyBytes, type Config } from '../platform/config.ts';
import { keyringFromRoot, PostgresSecretStore } from '../secrets/postgres-store.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { VaultAdapterKv } from '../secrets/vault-kv.ts';
import { VaultSecretStore } from '../secrets/vault-store.ts';
import { serviceRoutes } from '../service-configs/service-configs.routes.ts';
import { ServiceConfigsService } from '../service-configs/service-configs.service.ts';
import { variableRoutes } from '../variables/variables.routes.ts';
import { VariablesService } from '../variables/variables.service.ts';
import { projectRoutes } from './projects.routes.ts';
import { ProjectsService } from './projects.service.ts';

/** ProjectDomainDeps are the adapters the project domains are built from; the optional ones replace defaults in tests. */
export interface ProjectDomainDeps {
  /** dataSource is the initialised DataSource. */
  dataSource: DataSource;
  /** clock is the time source. */
  clock: Clock;
  /** config supplies the secret key, Vault settings, apps domain and the unverified-domains switch. */
  config: Pick<Config, 'secretKey' | 'vault' | 'appsDomain' | 'allowUnverifiedDomains' | 'nodeEnv'>;
  /** access is the AccessChecker. */
  access: AccessChecker;
  /** audit is the AuditRecorder. */
  audit: AuditRecorder;
  /** logger logs undo failures (never values). */
  logger?: Logger;
  /** secretStore replaces the store chosen from the configuration. */
  secretStore?: SecretStore;
  /** resolver replaces the system DNS resolver of domain verification. */
  resolver?: DnsResolver;
  /** fetcher replaces the HTTP challenge fetcher. */
  fetcher?: ChallengeFetcher;
}

/** createSecretStore picks Vault KV v2 when VAULT_ADDR is set, AES-256-GCM in Postgres otherwise. */
export function createSecretStore(deps: Pick<ProjectDomainDeps, 'dataSource' | 'clock' | 'config'>): SecretStore {
  const v = deps.config.vault;
  if (v) {
    if (!v.token) throw new Error('VAULT_TOKEN is required when VAULT_ADDR is set');
    const ca = v.caCertPath ? readFileSync(v.caCertPath, 'utf8') : undefined;
    const adapter = new VaultAdapter({ address: v.address, token: v.token, kvMount: v.kvMount, ...(ca ? { tls: { ca } } : {}) });
    return new VaultSecretStore(new VaultAdapterKv(adapter));
  }
  return new PostgresSecretStore(keyringFromRoot(secretKeyBytes(deps.config)), deps.clock, deps.dataSource.manager);
}

/** createProjectDomainServices builds the services of the project domains. */
export function createProjectDomainServices(deps: ProjectDomainDeps) {
  const { dataSource, clock, access, audit } = deps;
  const secrets = deps.secretStore ?? createSecretStore(deps);
  const namer = (serviceSlug: string, environmentSlug: string, serviceId: string) =>
    generatedDomain(serviceSlug, environmentSlug, serviceId, deps.config.appsDomain);
  const scope = { access, audit, clock };
  const resolver = deps.resolver ?? new SystemDnsResolver();
  const fetcher = deps.fetcher ?? new HttpChallengeFetcher({ resolver, allowPrivateTargets: deps.config.nodeEnv !== 'production' });
  return {
    /** secrets is the SecretStore holding variable values and registry credentials. */
    secrets,
    /** projects manages projects. */
    projects: new ProjectsService({ ...scope, dataSource, secrets }),
    /** environments manages environments (and duplication). */
    environments: new EnvironmentsService({ ...scope, dataSource, secrets, generatedDomain: namer }),
    /** services manages service configurations. */
    services: new ServiceConfigsService({ ...scope, dataSource, secrets, generatedDomain: namer }),
    /** variables manages variables and reveals. */
    variables: new VariablesService({ ...scope, dataSource, secrets }),
    /** domains manages generated and custom domains. */
    domains: new DomainsService({
      ...scope, dataSource, appsDomain: deps.config.appsDomain, allowUnverified: deps.config.allowUnverifiedDomains, resolver, fetcher,
    }),
  };
}

/** ProjectDomainServices is what createProjectDomainServices returns. */
export type ProjectDomainServices = ReturnType<typeof createProjectDomainServices>;

/** projectDomainRoutes lists the routes of the project domains. */
export function projectDomainRoutes(s: ProjectDomainServices): AnyRoute[] {
  return [
    ...projectRoutes(s.projects),
    ...environmentRoutes(s.environments),
    ...serviceRoutes(s.services),
    ...variableRoutes(s.variables),
    ...domainRoutes(s.domains),
  ];
}
