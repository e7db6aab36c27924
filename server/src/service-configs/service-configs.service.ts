/**
 * ServiceConfigsService: a Drover service's configuration (what runs and how; deployments are another domain).
 * Registry credentials go to the SecretStore and are never returned. A public service has a generated domain
 * (created and removed with the `public` flag in the same transaction).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../core/actor.ts';
import { DomainError, invalid } from '../core/errors.ts';
import type { Page, PageParams } from '../core/pagination.ts';
import { DomainEntity, type DomainRow } from '../domains/domain.entity.ts';
import { refuseDatabaseHostname } from '../domains/database-hostnames.ts';
import { EnvironmentEntity, type EnvironmentRow } from '../environments/environment.entity.ts';
import type { GeneratedDomainNamer } from '../environments/environments.service.ts';
import { slugTaken } from '../projects/projects.service.ts';
import { isUniqueViolation, keysetPage, loadOwned, now, type ScopeDeps } from '../projects/scope.ts';
import { dropAll, serviceOwners } from '../secrets/owners.ts';
import { withSecrets, type SecretStore, type SecretWriter } from '../secrets/secret-store.ts';
import { ServiceEntity, type ServiceRow } from './service.entity.ts';
import { finishConfig, type ConfigInput, type ServiceConfig } from './validation.ts';

/** ServiceConfigsServiceDeps are what ServiceConfigsService needs. */
export interface ServiceConfigsServiceDeps extends ScopeDeps {
  /** dataSource runs queries and transactions. */
  dataSource: DataSource;
  /** secrets holds registry credentials (and the variables dropped with a service). */
  secrets: SecretStore;
  /** generatedDomain names a public service's generated domain. */
  generatedDomain: GeneratedDomainNamer;
}

/** RegistryCredentials are a registry login; write-only. */
export interface RegistryCredentials {
  /** username is the registry user. */
  username: string;
  /** password is the registry password or token. */
  password: string;
}

/** CreateServiceInput is a new service: slug, display name, configuration and optional registry credentials. */
export type CreateServiceInput = ConfigInput & { slug: string; name?: string | undefined; registry?: RegistryCredentials | undefined };

/** ServicePatch changes a service: a field set to null is removed; the slug cannot change. */
export type ServicePatch = { [K in keyof ConfigInput]?: ConfigInput[K] | null } & {
  name?: string | undefined;
  registry?: RegistryCredentials | null | undefined;
};

/** ServiceView is a service row with its generated hostname (null when not public). */
export type ServiceView = ServiceRow & { generatedHostname: string | null };

/** ServiceConfigsService implements the service-configuration operations; every method checks access first. */
export class ServiceConfigsService {
  private readonly d: ServiceConfigsServiceDeps;

  constructor(deps: ServiceConfigsServiceDeps) {
    this.d = deps;
  }

  /** create validates and stores a service in an environment (write permission). */
  async create(actor: Actor, environmentId: string, input: CreateServiceInput): Promise<ServiceView> {
    const env = await this.environment(actor, environmentId, 'write');
    const { slug, name, registry, ...fields } = input;
    const config = this.finish(fields);
    if (registry && config.image === undefined) throw invalid([{ path: 'body.registry', message: 'registry credentials need an image' }]);
    const at = now(this.d.clock);
    const row: ServiceRow = {
      id: randomUUID(), teamId: env.teamId, projectId: env.projectId, environmentId: env.id, slug, name: name ?? slug,
      config, registryCredentials: registry !== undefined, createdAt: at, updatedAt: at,
    };
    let hostname: string | null = null;
    try {
      await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
        await tx.getRepository(ServiceEntity).insert(row);
        if (config.public) hostname = await this.addGeneratedDomain(tx, row, env, at);
        await this.d.audit.record({ actor, teamId: env.teamId, action: 'service.create', targetType: 'service', targetId: row.id, details: { environmentId: env.id, slug, config, registryCredentials: row.registryCredentials } }, tx);
        if (registry) await this.writeRegistry(secrets, row, registry);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'services_environment_slug_uq')) throw slugTaken('service/slug_taken');
      throw e;
    }
    return { ...row, generatedHostname: hostname };
  }

  /** list pages through an environment's services (read permission). */
  async list(actor: Actor, environmentId: string, page: PageParams): Promise<Page<ServiceView>> {
    const env = await this.environment(actor, environmentId, 'read');
    const qb = this.d.dataSource.getRepository(ServiceEntity).createQueryBuilder('s')
      .where('s.environment_id = :eid AND s.team_id = :tid', { eid: env.id, tid: env.teamId });
    const p = await keysetPage(qb, 's', page);
    const hosts = await this.generatedHostnames(p.items.map((s) => s.id));
    return { items: p.items.map((s) => ({ ...s, generatedHostname: hosts.get(s.id) ?? null })), nextCursor: p.nextCursor };
  }

  /** get returns one service (read permission). */
  async get(actor: Actor, serviceId: string): Promise<ServiceView> {
    const s = await this.load(actor, serviceId, 'read');
    const hosts = await this.generatedHostnames([s.id]);
    return { ...s, generatedHostname: hosts.get(s.id) ?? null };
  }

  /**
   * update applies a patch, revalidates the whole configuration, keeps the generated domain in step with `public`
   * and sets or removes registry credentials (write permission).
   */
  async update(actor: Actor, serviceId: string, patch: ServicePatch): Promise<ServiceView> {
    const s = await this.load(actor, serviceId, 'write');
    const { name, registry, ...fields } = patch;
    const merged: Record<string, unknown> = { ...s.config };
    for (const [k, v] of Object.entries(fields)) {
      if (v === null) delete merged[k];
      else if (v !== undefined) merged[k] = v;
    }
    const config = this.finish(merged as ConfigInput);
    if (registry && config.image === undefined) throw invalid([{ path: 'body.registry', message: 'registry credentials need an image' }]);
    const dropRegistry = registry === null || (s.registryCredentials && config.image === undefined);
    const registryCredentials = registry ? true : dropRegistry ? false : s.registryCredentials;
    const at = now(this.d.clock);
    const next: ServiceRow = { ...s, name: name ?? s.name, config, registryCredentials, updatedAt: at };
    let hostname: string | null = null;
    await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
      await tx.getRepository(ServiceEntity).update({ id: s.id, teamId: s.teamId }, { name: next.name, config, registryCredentials, updatedAt: at });
      const existing = await tx.getRepository(DomainEntity).findOneBy({ serviceId: s.id, kind: 'generated' });
      if (config.public && !existing) {
        const env = await tx.getRepository(EnvironmentEntity).findOneByOrFail({ id: s.environmentId });
        hostname = await this.addGeneratedDomain(tx, next, env, at);
      } else if (!config.public && existing) {
        await tx.getRepository(DomainEntity).delete({ id: existing.id });
      } else if (existing) hostname = existing.hostname;
      const changed = Object.keys(fields).filter((k) => (fields as Record<string, unknown>)[k] !== undefined);
      await this.d.audit.record({
        actor, teamId: s.teamId, action: 'service.update', targetType: 'service', targetId: s.id,
        details: { changed, ...(name !== undefined ? { name } : {}), config, registryCredentials: registry === undefined ? (dropRegistry ? 'removed' : 'unchanged') : registry === null ? 'removed' : 'set' },
      }, tx);
      if (registry) await this.writeRegistry(secrets, next, registry);
      else if (dropRegistry) await secrets.drop(serviceOwners(s.teamId, s.id)[1]);
    });
    return { ...next, generatedHostname: hostname };
  }

  /** delete removes a service with its variables (and values), credentials and domains (write permission). */
  async delete(actor: Actor, serviceId: string): Promise<void> {
    const s = await this.load(actor, serviceId, 'write');
    await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
      const r = await tx.getRepository(ServiceEntity).delete({ id: s.id, teamId: s.teamId });
      if (!r.affected) throw new DomainError('service/not_found');
      await this.d.audit.record({ actor, teamId: s.teamId, action: 'service.delete', targetType: 'service', targetId: s.id, details: { environmentId: s.environmentId, slug: s.slug } }, tx);
      await dropAll(secrets, serviceOwners(s.teamId, s.id));
    });
  }

  /** load fetches a service and checks access (used by the variables and domains services too). */
  load(actor: Actor, serviceId: string, permission: 'read' | 'write' | 'reveal'): Promise<ServiceRow> {
    return loadOwned(this.d.access, actor, serviceId, permission, 'service/not_found',
      (id) => this.d.dataSource.getRepository(ServiceEntity).findOneBy({ id }));
  }

  private finish(fields: ConfigInput): ServiceConfig {
    const r = finishConfig(fields);
    if ('errors' in r) throw invalid(r.errors);
    return r.config;
  }

  private async writeRegistry(secrets: SecretWriter, s: ServiceRow, reg: RegistryCredentials): Promise<void> {
    await secrets.write(serviceOwners(s.teamId, s.id)[1], new Map([['username', reg.username], ['password', reg.password]]));
  }

  private async addGeneratedDomain(tx: EntityManager, s: ServiceRow, env: EnvironmentRow, at: Date): Promise<string> {
    const row: DomainRow = {
      id: randomUUID(), teamId: s.teamId, projectId: s.projectId, environmentId: s.environmentId, serviceId: s.id,
      hostname: this.d.generatedDomain(s.slug, env.slug, s.id), kind: 'generated', verificationStatus: 'verified',
      verificationToken: null, verifiedAt: at, verifiedBy: null, certificateStatus: 'unknown', lastCheckedAt: null, lastCheckError: null, createdAt: at, updatedAt: at,
    };
    // Making a service public again brings its generated name back: refused while a public database holds it.
    await refuseDatabaseHostname(tx, row.hostname, 'body.public');
    await tx.getRepository(DomainEntity).insert(row);
    return row.hostname;
  }

  private async generatedHostnames(serviceIds: string[]): Promise<Map<string, string>> {
    if (serviceIds.length === 0) return new Map();
    const rows = await this.d.dataSource.getRepository(DomainEntity).createQueryBuilder('d')
      .where("d.service_id IN (:...ids) AND d.kind = 'generated'", { ids: serviceIds }).getMany();
    return new Map(rows.map((r) => [r.serviceId, r.hostname]));
  }

  private environment(actor: Actor, environmentId: string, permission: 'read' | 'write'): Promise<EnvironmentRow> {
    return loadOwned(this.d.access, actor, environmentId, permission, 'environment/not_found',
      (id) => this.d.dataSource.getRepository(EnvironmentEntity).findOneBy({ id }));
  }
}
