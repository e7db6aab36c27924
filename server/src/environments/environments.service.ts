/**
 * EnvironmentsService: a project's environments. A project keeps at least one environment; slugs are immutable;
 * duplicating copies the services (with their registry credentials) and the variables (values copied through the
 * SecretStore) into a new environment, in one transaction whose Vault writes are undone if it fails.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import type { Page, PageParams } from '../core/pagination.ts';
import { DomainEntity, type DomainRow } from '../domains/domain.entity.ts';
import { ProjectEntity } from '../projects/project.entity.ts';
import { slugTaken } from '../projects/projects.service.ts';
import { isUniqueViolation, keysetPage, loadOwned, now, type ScopeDeps } from '../projects/scope.ts';
import { dropAll, environmentOwner, serviceOwners } from '../secrets/owners.ts';
import { withSecrets, type SecretOwner, type SecretStore, type SecretWriter } from '../secrets/secret-store.ts';
import { ServiceEntity, type ServiceRow } from '../service-configs/service.entity.ts';
import { VariableEntity, type VariableRow } from '../variables/variable.entity.ts';
import { EnvironmentEntity, type EnvironmentRow } from './environment.entity.ts';

/** GeneratedDomainNamer builds the generated hostname of a service (platform.md naming). */
export type GeneratedDomainNamer = (serviceSlug: string, environmentSlug: string, serviceId: string) => string;

/** EnvironmentsServiceDeps are what EnvironmentsService needs. */
export interface EnvironmentsServiceDeps extends ScopeDeps {
  /** dataSource runs queries and transactions. */
  dataSource: DataSource;
  /** secrets holds variable values and registry credentials. */
  secrets: SecretStore;
  /** generatedDomain names the generated domain of a public service copied by duplicate. */
  generatedDomain: GeneratedDomainNamer;
}

/** NewEnvironmentInput is a new environment's immutable slug and display name. */
export interface NewEnvironmentInput {
  /** slug is validated by the route. */
  slug: string;
  /** name defaults to the slug. */
  name?: string | undefined;
}

/** EnvironmentsService implements the environment operations; every method checks access first. */
export class EnvironmentsService {
  private readonly d: EnvironmentsServiceDeps;

  constructor(deps: EnvironmentsServiceDeps) {
    this.d = deps;
  }

  /** create adds an empty environment to a project (write permission). */
  async create(actor: Actor, projectId: string, input: NewEnvironmentInput): Promise<EnvironmentRow> {
    const p = await this.project(actor, projectId, 'write');
    const at = now(this.d.clock);
    const env: EnvironmentRow = { id: randomUUID(), teamId: p.teamId, projectId: p.id, slug: input.slug, name: input.name ?? input.slug, createdAt: at, updatedAt: at };
    try {
      await this.d.dataSource.transaction(async (tx) => {
        await tx.getRepository(EnvironmentEntity).insert(env);
        await this.d.audit.record({ actor, teamId: p.teamId, action: 'environment.create', targetType: 'environment', targetId: env.id, details: { projectId: p.id, slug: env.slug, name: env.name } }, tx);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'environments_project_slug_uq')) throw slugTaken('environment/slug_taken');
      throw e;
    }
    return env;
  }

  /** list pages through a project's environments (read permission). */
  async list(actor: Actor, projectId: string, page: PageParams): Promise<Page<EnvironmentRow>> {
    const p = await this.project(actor, projectId, 'read');
    const qb = this.d.dataSource.getRepository(EnvironmentEntity).createQueryBuilder('e')
      .where('e.project_id = :pid AND e.team_id = :tid', { pid: p.id, tid: p.teamId });
    return keysetPage(qb, 'e', page);
  }

  /** get returns one environment (read permission). */
  get(actor: Actor, environmentId: string): Promise<EnvironmentRow> {
    return this.load(actor, environmentId, 'read');
  }

  /** rename changes the display name only (write permission). */
  async rename(actor: Actor, environmentId: string, name: string): Promise<EnvironmentRow> {
    const e = await this.load(actor, environmentId, 'write');
    const at = now(this.d.clock);
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(EnvironmentEntity).update({ id: e.id, teamId: e.teamId }, { name, updatedAt: at });
      await this.d.audit.record({ actor, teamId: e.teamId, action: 'environment.update', targetType: 'environment', targetId: e.id, details: { name: { from: e.name, to: name } } }, tx);
    });
    return { ...e, name, updatedAt: at };
  }

  /**
   * delete removes an environment with its services, variables (and values) and domains (write permission); the
   * project's last environment cannot be deleted (`environment/last`). The project row is locked so two concurrent
   * deletes cannot remove the last two environments.
   */
  async delete(actor: Actor, environmentId: string): Promise<void> {
    const e = await this.load(actor, environmentId, 'write');
    await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
      await tx.getRepository(ProjectEntity).createQueryBuilder('p').setLock('pessimistic_write').where('p.id = :id', { id: e.projectId }).getOne();
      const count = await tx.getRepository(EnvironmentEntity).countBy({ projectId: e.projectId, teamId: e.teamId });
      if (count <= 1) throw new DomainError('environment/last', 'A project keeps at least one environment; delete the project instead');
      const svcs = await tx.getRepository(ServiceEntity).find({ where: { environmentId: e.id, teamId: e.teamId }, select: { id: true } });
      const deleted = await tx.getRepository(EnvironmentEntity).delete({ id: e.id, teamId: e.teamId });
      if (!deleted.affected) throw new DomainError('environment/not_found');
      await this.d.audit.record({ actor, teamId: e.teamId, action: 'environment.delete', targetType: 'environment', targetId: e.id, details: { projectId: e.projectId, slug: e.slug } }, tx);
      await dropAll(secrets, [...svcs.flatMap((s) => serviceOwners(e.teamId, s.id)), environmentOwner(e.teamId, e.id)]);
    });
  }

  /**
   * duplicate creates a new environment (new slug and name) in the same project with copies of the source's
   * services (new IDs, same slugs and configuration, registry credentials copied), their variables and the shared
   * variables (values copied through the SecretStore) and, for public services, new generated domains. Custom
   * domains are not copied (a hostname belongs to one service). All or nothing (write permission).
   */
  async duplicate(actor: Actor, environmentId: string, input: NewEnvironmentInput): Promise<EnvironmentRow> {
    const src = await this.load(actor, environmentId, 'write');
    const at = now(this.d.clock);
    const env: EnvironmentRow = { id: randomUUID(), teamId: src.teamId, projectId: src.projectId, slug: input.slug, name: input.name ?? input.slug, createdAt: at, updatedAt: at };
    try {
      await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
        await tx.getRepository(EnvironmentEntity).insert(env);
        const copied = await this.copyContents(tx, secrets, src, env, at);
        await this.d.audit.record({
          actor, teamId: src.teamId, action: 'environment.duplicate', targetType: 'environment', targetId: env.id,
          details: { projectId: src.projectId, from: src.id, slug: env.slug, name: env.name, services: copied.services, variables: copied.variables },
        }, tx);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'environments_project_slug_uq')) throw slugTaken('environment/slug_taken');
      throw e;
    }
    return env;
  }

  private async copyContents(tx: EntityManager, secrets: SecretWriter, src: EnvironmentRow, dst: EnvironmentRow, at: Date) {
    const teamId = src.teamId;
    const services = await tx.getRepository(ServiceEntity).find({ where: { environmentId: src.id, teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
    const vars = await tx.getRepository(VariableEntity).find({ where: { environmentId: src.id, teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
    const idMap = new Map<string, string>();
    // Copies keep the source's order in lists (sorted by creation time): one millisecond apart, in source order.
    const tick = (i: number) => new Date(at.getTime() + i);
    const newServices: ServiceRow[] = services.map((s, i) => {
      const id = randomUUID();
      idMap.set(s.id, id);
      return { ...s, id, environmentId: dst.id, createdAt: tick(i), updatedAt: at };
    });
    if (newServices.length > 0) await tx.getRepository(ServiceEntity).insert(newServices);
    const domains: DomainRow[] = newServices.filter((s) => s.config.public).map((s) => ({
      id: randomUUID(), teamId, projectId: s.projectId, environmentId: dst.id, serviceId: s.id,
      hostname: this.d.generatedDomain(s.slug, dst.slug, s.id), kind: 'generated', verificationStatus: 'verified',
      verificationToken: null, verifiedAt: at, verifiedBy: null, certificateStatus: 'unknown', lastCheckedAt: null, lastCheckError: null, createdAt: at, updatedAt: at,
    }));
    if (domains.length > 0) await tx.getRepository(DomainEntity).insert(domains);
    const newVars: VariableRow[] = vars.map((v, i) => {
      const serviceId = v.serviceId === null ? null : (idMap.get(v.serviceId) as string);
      return { ...v, id: randomUUID(), environmentId: dst.id, serviceId, ownerId: serviceId ?? dst.id, createdAt: tick(i), updatedAt: at };
    });
    if (newVars.length > 0) await tx.getRepository(VariableEntity).insert(newVars);
    // Values last: every row is in place, so a failure here rolls the rows back and undoes earlier Vault writes.
    const copyOwner = async (from: SecretOwner, to: SecretOwner) => {
      const values = await secrets.read(from);
      if (values.size > 0) await secrets.write(to, values);
    };
    await copyOwner(environmentOwner(teamId, src.id), environmentOwner(teamId, dst.id));
    for (const s of services) {
      const [fromVars, fromReg] = serviceOwners(teamId, s.id);
      const [toVars, toReg] = serviceOwners(teamId, idMap.get(s.id) as string);
      await copyOwner(fromVars, toVars);
      if (s.registryCredentials) await copyOwner(fromReg, toReg);
    }
    return { services: newServices.length, variables: newVars.length };
  }

  private async project(actor: Actor, projectId: string, permission: 'read' | 'write') {
    return loadOwned(this.d.access, actor, projectId, permission, 'project/not_found', async (id) => {
      const p = await this.d.dataSource.getRepository(ProjectEntity).findOneBy({ id });
      return p ? { ...p, projectId: p.id } : null;
    });
  }

  private load(actor: Actor, environmentId: string, permission: 'read' | 'write'): Promise<EnvironmentRow> {
    return loadOwned(this.d.access, actor, environmentId, permission, 'environment/not_found',
      (id) => this.d.dataSource.getRepository(EnvironmentEntity).findOneBy({ id }));
  }
}
