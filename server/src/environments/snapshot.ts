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
import type { SecretOwner, SecretStore } from '../secrets/secret-store.ts';
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
 * transaction, and every value it needs (shared variables, each service's variables and registry login, each
 * database's credentials) with ONE SecretStore batch read: inside that transaction for the Postgres store (one
 * query, consistent with the rows), after it for Vault (concurrent KV reads, no connection held meanwhile). An
 * unknown environment is `environment/not_found`.
 */
export async function loadEnvironmentSnapshot(
  dataSource: DataSource, secrets: SecretStore, teamId: string, environmentId: string, options: { allowUnverifiedDomains: boolean },
): Promise<EnvironmentSnapshot> {
  const ownersOf = (r: { services: ServiceRow[]; databases: DatabaseRow[] }): SecretOwner[] => [
    environmentOwner(teamId, environmentId),
    ...r.databases.map((d) => databaseOwner(teamId, d.id)),
    ...r.services.flatMap((s) => {
      const [varsOwner, regOwner] = serviceOwners(teamId, s.id);
      return s.registryCredentials ? [varsOwner, regOwner] : [varsOwner];
    }),
  ];
  const inTx = secrets.kind === 'postgres';
  // START TRANSACTION … REPEATABLE READ READ ONLY is one statement (TypeORM's transaction() sends the isolation level
  // as a second one): the snapshot costs BEGIN, five reads, one secret read and COMMIT.
  const qr = dataSource.createQueryRunner();
  const read = async () => {
    const tx = qr.manager;
    const environment = await tx.getRepository(EnvironmentEntity).findOneBy({ id: environmentId, teamId });
    if (!environment) throw new DomainError('environment/not_found');
    const project = await tx.getRepository(ProjectEntity).findOneByOrFail({ id: environment.projectId, teamId });
    const services = await tx.getRepository(ServiceEntity).find({ where: { environmentId, teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
    const domains = await tx.getRepository(DomainEntity).find({ where: { environmentId, teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
    const databases = (await tx.getRepository(DatabaseEntity).find({ where: { environmentId, teamId }, order: { createdAt: 'ASC', id: 'ASC' } })).filter((d) => !d.removedAt);
    const values = inTx ? await secrets.readMany(ownersOf({ services, databases }), tx) : null;
    return { environment, project, services, domains, databases, values };
  };
  await qr.connect();
  let rows: Awaited<ReturnType<typeof read>>;
  try {
    await qr.query('START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    rows = await read();
    await qr.query('COMMIT');
  } catch (e) {
    await qr.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await qr.release();
  }
  const values = rows.values ?? await secrets.readMany(ownersOf(rows));
  // The values come back in the order of ownersOf: shared, the databases, then each service (and its registry login).
  let at = 0;
  const next = (): Map<string, string> => values[at++] ?? new Map<string, string>();
  const shared = next();
  const databaseCredentials = new Map(rows.databases.map((d) => [d.id, next()] as const));
  const services = rows.services.map((s): ServiceSnapshot => {
    const variables = next();
    const reg = s.registryCredentials ? next() : new Map<string, string>();
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
  });
  return { project: rows.project, environment: rows.environment, shared, services, databases: rows.databases, databaseCredentials };
}
