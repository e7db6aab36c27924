/**
 * ProjectsService: a team's projects. Creating a project creates its `production` environment in the same
 * transaction; slugs are immutable (an update changes the display name only); deleting a project deletes its
 * environments, services, variables (and their values in the SecretStore) and domains, all or nothing.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import type { Page, PageParams } from '../core/pagination.ts';
import { EnvironmentEntity, type EnvironmentRow } from '../environments/environment.entity.ts';
import { dropAll, environmentOwner, serviceOwners } from '../secrets/owners.ts';
import { withSecrets, type SecretStore } from '../secrets/secret-store.ts';
import { ServiceEntity } from '../service-configs/service.entity.ts';
import { ProjectEntity, type ProjectRow } from './project.entity.ts';
import { isUniqueViolation, keysetPage, loadOwned, now, type ScopeDeps } from './scope.ts';

/** ProjectsServiceDeps are what ProjectsService needs. */
export interface ProjectsServiceDeps extends ScopeDeps {
  /** dataSource runs queries and transactions. */
  dataSource: DataSource;
  /** secrets holds variable values, dropped with the project. */
  secrets: SecretStore;
}

/** CreateProjectInput is a new project: its immutable slug and display name (defaults to the slug). */
export interface CreateProjectInput {
  /** slug is validated by the route (slugSchema). */
  slug: string;
  /** name is the display name. */
  name?: string | undefined;
}

/** PRODUCTION_ENVIRONMENT is the slug of the environment every project starts with. */
export const PRODUCTION_ENVIRONMENT = 'production';

/** slugTaken is the 409 for a slug in use, naming `body.slug`. */
export function slugTaken(code: 'project/slug_taken' | 'environment/slug_taken' | 'service/slug_taken'): DomainError {
  return new DomainError(code, undefined, { errors: [{ path: 'body.slug', message: 'is already used' }] });
}

/** ProjectsService implements the project operations; every method checks access first. */
export class ProjectsService {
  private readonly d: ProjectsServiceDeps;

  constructor(deps: ProjectsServiceDeps) {
    this.d = deps;
  }

  /** create makes a project and its `production` environment in one transaction (write permission on the team). */
  async create(actor: Actor, teamId: string, input: CreateProjectInput): Promise<ProjectRow> {
    await this.d.access.requireTeam(actor, teamId, 'write');
    const at = now(this.d.clock);
    const project: ProjectRow = { id: randomUUID(), teamId, slug: input.slug, name: input.name ?? input.slug, createdAt: at, updatedAt: at };
    const env: EnvironmentRow = {
      id: randomUUID(), teamId, projectId: project.id, slug: PRODUCTION_ENVIRONMENT, name: 'Production', createdAt: at, updatedAt: at,
    };
    try {
      await this.d.dataSource.transaction(async (tx) => {
        await tx.getRepository(ProjectEntity).insert(project);
        await tx.getRepository(EnvironmentEntity).insert(env);
        await this.d.audit.record({ actor, teamId, action: 'project.create', targetType: 'project', targetId: project.id, details: { slug: project.slug, name: project.name } }, tx);
        await this.d.audit.record({ actor, teamId, action: 'environment.create', targetType: 'environment', targetId: env.id, details: { projectId: project.id, slug: env.slug } }, tx);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'projects_team_slug_uq')) throw slugTaken('project/slug_taken');
      throw e;
    }
    return project;
  }

  /** list pages through a team's projects (read permission); a member limited to projects sees only those. */
  async list(actor: Actor, teamId: string, page: PageParams): Promise<Page<ProjectRow>> {
    const m = await this.d.access.requireTeam(actor, teamId, 'read');
    const qb = this.d.dataSource.getRepository(ProjectEntity).createQueryBuilder('p').where('p.team_id = :teamId', { teamId });
    if (m.projectIds !== null) {
      if (m.projectIds.length === 0) return { items: [], nextCursor: null };
      qb.andWhere('p.id IN (:...ids)', { ids: [...m.projectIds] });
    }
    return keysetPage(qb, 'p', page);
  }

  /** get returns one project (read permission). */
  async get(actor: Actor, projectId: string): Promise<ProjectRow> {
    return this.load(actor, projectId, 'read');
  }

  /** rename changes the display name only (write permission); the slug is immutable. */
  async rename(actor: Actor, projectId: string, name: string): Promise<ProjectRow> {
    const p = await this.load(actor, projectId, 'write');
    const at = now(this.d.clock);
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(ProjectEntity).update({ id: p.id, teamId: p.teamId }, { name, updatedAt: at });
      await this.d.audit.record({ actor, teamId: p.teamId, action: 'project.update', targetType: 'project', targetId: p.id, details: { name: { from: p.name, to: name } } }, tx);
    });
    return { ...p, name, updatedAt: at };
  }

  /** delete removes the project with everything in it, including secret values (write permission). */
  async delete(actor: Actor, projectId: string): Promise<void> {
    const p = await this.load(actor, projectId, 'write');
    await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
      const owners = await projectSecretOwners(tx, p.teamId, p.id);
      await tx.getRepository(ProjectEntity).delete({ id: p.id, teamId: p.teamId });
      await this.d.audit.record({ actor, teamId: p.teamId, action: 'project.delete', targetType: 'project', targetId: p.id, details: { slug: p.slug } }, tx);
      await dropAll(secrets, owners);
    });
  }

  private load(actor: Actor, projectId: string, permission: 'read' | 'write'): Promise<ProjectRow & { projectId: string }> {
    return loadOwned(this.d.access, actor, projectId, permission, 'project/not_found', async (id) => {
      const p = await this.d.dataSource.getRepository(ProjectEntity).findOneBy({ id });
      return p ? { ...p, projectId: p.id } : null;
    });
  }
}

/** projectSecretOwners lists the secret owners of every environment and service of a project. */
export async function projectSecretOwners(tx: EntityManager, teamId: string, projectId: string) {
  const envs = await tx.getRepository(EnvironmentEntity).find({ where: { teamId, projectId }, select: { id: true } });
  const svcs = await tx.getRepository(ServiceEntity).find({ where: { teamId, projectId }, select: { id: true } });
  return [...svcs.flatMap((s) => serviceOwners(teamId, s.id)), ...envs.map((e) => environmentOwner(teamId, e.id))];
}
