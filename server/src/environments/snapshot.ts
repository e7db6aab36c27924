/**
 * Environment snapshot: everything the deployment engine needs to compile an environment — project and environment
 * identities, each service's configuration, its variable values and registry credentials (read from the
 * SecretStore), the shared variables, and the hostnames that may be routed (generated ones of public services, custom
 * ones once verified or when the operator allows unverified domains). It holds secret VALUES: callers check the
 * `deploy` permission first, hand the values only to Vault/Nomad Variables as data, and never log or return them.
 */
import type { DataSource } from 'typeorm';
import { DomainError } from '../core/errors.ts';
import { databaseOwner } from '../databases/credentials.ts';
import { DatabaseEntity, type DatabaseRow } from '../databases/database.entity.ts';
import { DomainEntity, type DomainKind } from '../domains/domain.entity.ts';
import { ProjectEntity, type ProjectRow } from '../projects/project.entity.ts';
import { environmentOwner, serviceOwners } from '../secrets/owners.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { ServiceEntity, type ServiceRow } from '../service-configs/service.entity.ts';
import { EnvironmentEntity, type EnvironmentRow } from './environment.entity.ts';

/** ServiceSnapshot is one service with its values and routable hostnames. */
export interface ServiceSnapshot {
  /** service is the service row (configuration included). */
  service: ServiceRow;
  /** variables are the service's variables by key (values). */
  variables: Map<string, string>;
  /** registry is the registry login for a private image, or null. */
  registry: { username: string; password: string } | null;
  /** hostnames are the hostnames that may be routed to the service now (empty when it is not public). */
  hostnames: string[];
  /** domains are those routable hostnames with their domain IDs (the compiler names Traefik routers from the IDs). */
  domains: { id: string; hostname: string; kind: DomainKind }[];
}

/** EnvironmentSnapshot is an environment as the deployment engine compiles it. */
export interface EnvironmentSnapshot {
  /** project is the owning project. */
  project: ProjectRow;
  /** environment is the environment. */
  environment: EnvironmentRow;
  /** shared are the environment's shared variables by key (values). */
  shared: Map<string, string>;
  /** services are the environment's services in creation order. */
  services: ServiceSnapshot[];
  /** databases are the environment's live (not removed) managed databases in creation order. */
  databases: DatabaseRow[];
  /** databaseCredentials are each live database's generated credentials by field, keyed by database ID. */
  databaseCredentials: Map<string, Map<string, string>>;
}

/**
 * loadEnvironmentSnapshot reads an environment of `teamId` (the caller has checked access) in one repeatable-read
 * transaction, then its values from the SecretStore. An unknown environment is `environment/not_found`.
 */
export async function loadEnvironmentSnapshot(
  dataSource: DataSource, secrets: SecretStore, teamId: string, environmentId: string, options: { allowUnverifiedDomains: boolean },
): Promise<EnvironmentSnapshot> {
  const rows = await dataSource.transaction('REPEATABLE READ', async (tx) => {
    const environment = await tx.getRepository(EnvironmentEntity).findOneBy({ id: environmentId, teamId });
    if (!environment) throw new DomainError('environment/not_found');
    const project = await tx.getRepository(ProjectEntity).findOneByOrFail({ id: environment.projectId, teamId });
    const services = await tx.getRepository(ServiceEntity).find({ where: { environmentId, teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
    const domains = await tx.getRepository(DomainEntity).find({ where: { environmentId, teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
    const databases = (await tx.getRepository(DatabaseEntity).find({ where: { environmentId, teamId }, order: { createdAt: 'ASC', id: 'ASC' } })).filter((d) => !d.removedAt);
    return { environment, project, services, domains, databases };
  });
  // The values are read concurrently: one SecretStore round trip per owner, not one after another.
  const [shared, databaseCredentials, services] = await Promise.all([
    secrets.read(environmentOwner(teamId, environmentId)),
    Promise.all(rows.databases.map(async (d) => [d.id, await secrets.read(databaseOwner(teamId, d.id))] as const)).then((e) => new Map(e)),
    Promise.all(rows.services.map(async (s): Promise<ServiceSnapshot> => {
      const [varsOwner, regOwner] = serviceOwners(teamId, s.id);
      const [variables, reg] = await Promise.all([
        secrets.read(varsOwner), s.registryCredentials ? secrets.read(regOwner) : Promise.resolve(new Map<string, string>()),
      ]);
      const domains = !s.config.public ? [] : rows.domains
        .filter((d) => d.serviceId === s.id && (d.kind === 'generated' || d.verificationStatus === 'verified' || options.allowUnverifiedDomains))
        .map((d) => ({ id: d.id, hostname: d.hostname, kind: d.kind }));
      return {
        service: s,
        variables,
        registry: reg.has('username') && reg.has('password') ? { username: reg.get('username') as string, password: reg.get('password') as string } : null,
        hostnames: domains.map((d) => d.hostname),
        domains,
      };
    })),
  ]);
  return { project: rows.project, environment: rows.environment, shared, services, databases: rows.databases, databaseCredentials };
}
