/**
 * ServiceTargets: finds where a service runs in Nomad (the team's namespace and the service's job ID, named as the
 * compiler names them) after checking the caller may read the service. Logs and metrics both start here.
 */
import type { DataSource } from 'typeorm';
import { jobId as makeJobId, namespaceName } from '@drover/scheduler/compiler/names.ts';
import type { AccessChecker } from '../core/access.ts';
import type { Actor, Permission } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import { requireAccess, isUuid } from '../projects/scope.ts';

/** ServiceTarget is a service and where its job lives. */
export interface ServiceTarget {
  /** serviceId is the service's ID. */
  serviceId: string;
  /** teamId is the owning team. */
  teamId: string;
  /** projectId is the owning project. */
  projectId: string;
  /** namespace is the team's Nomad namespace. */
  namespace: string;
  /** jobId is the service's Nomad job ID. */
  jobId: string;
}

interface Row { id: string; team_id: string; project_id: string; slug: string; project_slug: string; environment_slug: string; team_slug: string }

const SELECT = `SELECT s.id, s.team_id, s.project_id, s.slug, p.slug AS project_slug, e.slug AS environment_slug, t.slug AS team_slug
  FROM services s JOIN projects p ON p.id = s.project_id JOIN environments e ON e.id = s.environment_id JOIN teams t ON t.id = s.team_id`;

function toTarget(r: Row): ServiceTarget {
  return {
    serviceId: r.id, teamId: r.team_id, projectId: r.project_id,
    namespace: namespaceName(r.team_slug, r.team_id), jobId: makeJobId(r.project_slug, r.environment_slug, r.slug, r.id),
  };
}

/** ServiceTargets resolves services to their Nomad job. */
export class ServiceTargets {
  private readonly dataSource: DataSource;
  private readonly access: AccessChecker;

  constructor(dataSource: DataSource, access: AccessChecker) {
    this.dataSource = dataSource;
    this.access = access;
  }

  /**
   * require returns the service's target after checking `permission` on its project; an unknown ID, or one the caller
   * may not see, is `service/not_found`.
   */
  async require(actor: Actor, serviceId: string, permission: Permission = 'read'): Promise<ServiceTarget> {
    const row = isUuid(serviceId) ? ((await this.dataSource.query(`${SELECT} WHERE s.id = $1`, [serviceId])) as Row[])[0] : undefined;
    if (!row) throw new DomainError('service/not_found');
    await requireAccess(this.access, actor, { teamId: row.team_id, projectId: row.project_id }, permission, 'service/not_found');
    return toTarget(row);
  }

  /** all lists every service's target (the metrics sampler walks them), without access checks. */
  async all(): Promise<ServiceTarget[]> {
    return ((await this.dataSource.query(SELECT)) as Row[]).map(toTarget);
  }
}
