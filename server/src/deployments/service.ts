/**
 * DeploymentsService: the API side of the deployment engine. Creating a deployment snapshots the environment
 * (configuration and variable values at that moment), compiles the service's job and queues an immutable record;
 * the worker does the rest. Cancel, rollback, scale, restart, stop and remove need the `deploy` permission; every
 * mutation is audited in the transaction that makes it. Nomad outages are `nomad/unavailable`, never not found.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { isNomadNotFound, NomadConnectionError, NomadUnexpectedResponseError } from '@drover/scheduler/nomad/index.ts';
import type { AccessChecker } from '../core/access.ts';
import type { Actor, Permission } from '../core/actor.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/errors.ts';
import { decodeCursor, toPage, type Page, type PageParams } from '../core/pagination.ts';
import { EnvironmentEntity } from '../environments/environment.entity.ts';
import { loadEnvironmentSnapshot } from '../environments/snapshot.ts';
import type { EventBus } from '../platform/coordination/types.ts';
import { badCursor, isUuid, loadOwned, requireAccess } from '../projects/scope.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { ServiceEntity, type ServiceRow } from '../service-configs/service.entity.ts';
import { TeamEntity } from '../teams/team.entity.ts';
import { buildDeployment, clusterSettings, DEFAULT_TEAM_LIMITS, openValues, sealValues, type BuiltDeployment } from './build.ts';
import { compile } from '@drover/scheduler/compiler/index.ts';
import { DatabaseEntity, type DatabaseRow } from '../databases/database.entity.ts';
import { toModel } from '../databases/service.ts';
import type { DatabasePublicSettings } from '../databases/public.ts';
import { ProjectEntity } from '../projects/project.entity.ts';
import { publishDeploymentEvent } from './events.ts';
import { DeploymentStore, type DeploymentRow, type DeploymentTrigger, type RuntimeRow } from './store.ts';

/** DeploymentsServiceDeps are the adapters the service needs. */
export interface DeploymentsServiceDeps {
  /** dataSource is the initialised DataSource. */
  dataSource: DataSource;
  /** store is the deployment store. */
  store: DeploymentStore;
  /** secrets is the SecretStore the snapshot reads values from. */
  secrets: SecretStore;
  /** access decides what the caller may do. */
  access: AccessChecker;
  /** audit records mutations. */
  audit: AuditRecorder;
  /** clock stamps records. */
  clock: Clock;
  /** nomad is the Nomad client (scale, restart, stop, remove). */
  nomad: NomadClient;
  /** bus publishes state changes. */
  bus: EventBus;
  /** secretKey seals the snapshot's item values. */
  secretKey: Buffer;
  /** appsDomain is the parent of generated domains. */
  appsDomain: string;
  /** allowUnverifiedDomains routes unverified custom domains (labs). */
  allowUnverifiedDomains: boolean;
  /** vault makes jobs read their variables from Vault KV v2 under `kvMount` (absent: Nomad Variables). */
  vault?: { kvMount: string };
  /** databasePublic are the operator's public database settings (DATABASE_PUBLIC_URL references; default: off). */
  databasePublic?: DatabasePublicSettings;
}

/** CreateOptions describe why a deployment is made. */
export interface CreateOptions {
  /** reason is the user's note (shown with the deployment). */
  reason?: string;
  /** trigger overrides the trigger derived from the credential (`config_change` from automation). */
  trigger?: DeploymentTrigger;
}

/** nomadOutage maps an unreachable or failing Nomad to `nomad/unavailable` (5xx and connection errors only). */
export function nomadOutage(e: unknown): unknown {
  if (e instanceof NomadConnectionError || (e instanceof NomadUnexpectedResponseError && e.status >= 500)) {
    return new DomainError('nomad/unavailable', undefined, { cause: e });
  }
  return e;
}

/** DeploymentsService creates and acts on deployments. */
export class DeploymentsService {
  private readonly d: DeploymentsServiceDeps;
  constructor(d: DeploymentsServiceDeps) {
    this.d = d;
  }

  /** create queues a deployment of one service (deploy permission). */
  async create(actor: Actor, serviceId: string, opts: CreateOptions = {}): Promise<DeploymentRow> {
    const svc = await this.service(actor, serviceId, 'deploy');
    const [row] = await this.queue(actor, svc.teamId, svc.environmentId, [svc.id], opts);
    if (!row) throw new Error('internal: nothing queued');
    return row;
  }

  /**
   * createForEnvironment queues one deployment per service of an environment, sharing a batch ID (each one deploys the
   * environment's databases before its service). An environment that holds only databases gets one deployment per
   * live database instead; one with neither is `deployment/invalid`.
   */
  async createForEnvironment(actor: Actor, environmentId: string, opts: CreateOptions = {}): Promise<DeploymentRow[]> {
    const env = await loadOwned(this.d.access, actor, environmentId, 'deploy', 'environment/not_found',
      (id) => this.d.dataSource.getRepository(EnvironmentEntity).findOneBy({ id }));
    const services = await this.d.dataSource.getRepository(ServiceEntity).find({ where: { environmentId: env.id, teamId: env.teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
    if (services.length > 0) return this.queue(actor, env.teamId, env.id, services.map((s) => s.id), opts);
    const databases = (await this.d.dataSource.getRepository(DatabaseEntity).find({ where: { environmentId: env.id, teamId: env.teamId }, order: { createdAt: 'ASC', id: 'ASC' } }))
      .filter((d) => !d.removedAt);
    if (databases.length === 0) throw new DomainError('deployment/invalid', 'the environment has no services or databases', { errors: [{ path: 'params.environmentId', message: 'the environment has no services or databases' }] });
    return this.queueDatabases(actor, env.teamId, env.id, databases, opts);
  }

  /**
   * createForDatabase queues a deployment of one live managed database on its own (deploy permission): a durable record
   * holding the database as it is now (engine, version, size, volume) and its compiled job, run by the worker like a
   * service's — the volume created when missing (never deleted), the job pinned to the volume's node, registered and
   * followed to healthy or failed with the reason. `serviceId` of the record is the database's ID.
   */
  async createForDatabase(actor: Actor, databaseId: string, opts: CreateOptions = {}): Promise<DeploymentRow> {
    const db = await loadOwned(this.d.access, actor, databaseId, 'deploy', 'database/not_found', (id) => this.d.dataSource.getRepository(DatabaseEntity).findOneBy({ id }));
    if (db.removedAt) throw new DomainError('database/not_found');
    // Explicit: the worker registers the database even when its running job is unchanged (an environment deploy would not).
    const [row] = await this.queueDatabases(actor, db.teamId, db.environmentId, [db], opts, true);
    if (!row) throw new Error('internal: nothing queued');
    return row;
  }

  private async queueDatabases(actor: Actor | null, teamId: string, environmentId: string, databases: DatabaseRow[], opts: CreateOptions, explicit = false): Promise<DeploymentRow[]> {
    const [team, env] = await Promise.all([
      this.d.dataSource.getRepository(TeamEntity).findOneByOrFail({ id: teamId }),
      this.d.dataSource.getRepository(EnvironmentEntity).findOneByOrFail({ id: environmentId, teamId }),
    ]);
    const project = await this.d.dataSource.getRepository(ProjectEntity).findOneByOrFail({ id: env.projectId, teamId });
    const batchId = databases.length > 1 ? randomUUID() : null;
    const trigger: DeploymentTrigger = opts.trigger ?? (actor?.kind === 'token' ? 'api' : 'manual');
    const now = this.d.clock.now();
    const rows = databases.map((db) => {
      const id = randomUUID();
      // The job as the database is now; the worker's database hook registers it pinned to its volume's node, with its
      // credentials written as data (never in the job). Nothing secret is sealed in the record.
      const result = compile({
        team: { id: team.id, slug: team.slug, limits: { ...DEFAULT_TEAM_LIMITS } }, project: { id: project.id, slug: project.slug },
        environment: { id: env.id, slug: env.slug }, deployment: { id }, services: [], databases: [toModel(db)], shared: [], settings: clusterSettings(this.d.appsDomain),
      });
      const request = result.jobs[0];
      if (!request) throw new Error('internal: no database job');
      const b: BuiltDeployment = { request, namespace: request.Namespace ?? '', jobId: request.Job.ID, periodic: false, variablesPath: null, values: {}, volumes: [], warnings: result.warnings };
      return this.record(id, b, {
        teamId, projectId: project.id, environmentId, serviceId: db.id, batchId, trigger, createdBy: actor?.userId ?? null, now, reason: opts.reason ?? '',
        config: { kind: 'database', databaseId: db.id, name: db.name, engine: db.engine, version: db.version, sizeBytes: Number(db.sizeBytes), volumeId: db.volumeId, explicit },
      });
    });
    return this.insertQueued(actor, rows);
  }

  private async queue(actor: Actor | null, teamId: string, environmentId: string, serviceIds: string[], opts: CreateOptions): Promise<DeploymentRow[]> {
    const [team, snap] = await Promise.all([
      this.d.dataSource.getRepository(TeamEntity).findOneByOrFail({ id: teamId }),
      loadEnvironmentSnapshot(this.d.dataSource, this.d.secrets, teamId, environmentId, { allowUnverifiedDomains: this.d.allowUnverifiedDomains }),
    ]);
    const settings = clusterSettings(this.d.appsDomain, this.d.vault);
    const batchId = serviceIds.length > 1 ? randomUUID() : null;
    const trigger: DeploymentTrigger = opts.trigger ?? (actor?.kind === 'token' ? 'api' : 'manual');
    const built = serviceIds.map((sid) => {
      const id = randomUUID();
      return { id, b: buildDeployment({ id: team.id, slug: team.slug }, snap, sid, id, settings, this.d.databasePublic) };
    });
    const now = this.d.clock.now();
    const rows = built.map(({ id, b }) => this.record(id, b, {
      teamId, projectId: snap.project.id, environmentId, serviceId: b.request.Job.Meta?.['drover.service'] ?? '', batchId, trigger,
      createdBy: actor?.userId ?? null, now, reason: opts.reason ?? '', config: snap.services.find((s) => s.service.id === b.request.Job.Meta?.['drover.service'])?.service.config ?? {},
    }));
    return this.insertQueued(actor, rows);
  }

  private record(id: string, b: BuiltDeployment, o: {
    teamId: string; projectId: string; environmentId: string; serviceId: string; batchId: string | null; trigger: DeploymentTrigger;
    createdBy: string | null; now: Date; reason: string; config: object; rollbackOf?: string;
  }): DeploymentRow {
    const task = b.request.Job.TaskGroups?.[0]?.Tasks?.[0];
    const cfg = (task?.Config ?? {}) as { image?: string };
    const artifact = task?.Artifacts?.[0]?.GetterOptions as { checksum?: string } | undefined;
    return {
      id, teamId: o.teamId, projectId: o.projectId, environmentId: o.environmentId, serviceId: o.serviceId, batchId: o.batchId,
      state: 'queued', reason: o.reason === '' ? `queued (${o.trigger})` : o.reason, trigger: o.trigger, rollbackOf: o.rollbackOf ?? null, createdBy: o.createdBy,
      namespace: b.namespace, jobId: b.jobId, periodic: b.periodic, job: b.request as unknown as Record<string, unknown>, config: o.config as Record<string, unknown>,
      image: typeof cfg.image === 'string' ? cfg.image : null, artifactChecksum: artifact?.checksum ?? null,
      variablesPath: b.variablesPath, variableKeys: Object.keys(b.values),
      sealedValues: Object.keys(b.values).length > 0 ? sealValues(this.d.secretKey, b.values, id) : null,
      volumes: b.volumes, compileWarnings: b.warnings, planDiff: null, nomadWarnings: [], failure: null, outputTail: null,
      step: 'queued', progress: {}, cancelRequested: false, supersedeRequested: false, leaseOwner: null, leaseExpiresAt: null,
      attempts: 0, deadlineAt: null, createdAt: o.now, updatedAt: o.now, startedAt: null, finishedAt: null,
    };
  }

  /**
   * insertQueued writes the records in one transaction, two statements per record: ONE that inserts the record and
   * its `created` event and locks the service's other open deployments (FOR UPDATE, as superseding needs), then the
   * audit entry. Open deployments found are superseded in the same transaction.
   */
  private async insertQueued(actor: Actor | null, rows: DeploymentRow[]): Promise<DeploymentRow[]> {
    const superseded: DeploymentRow[] = [];
    await this.d.dataSource.transaction(async (tx) => {
      for (const row of rows) {
        const open = await this.d.store.insertCreated(row, `deployment created (${row.trigger}) with ${row.image ?? row.artifactChecksum ?? 'the stored job'}`,
          { jobId: row.jobId, namespace: row.namespace, variableItems: row.variableKeys.length, warnings: row.compileWarnings }, tx);
        if (open.length > 0) superseded.push(...await this.supersede(tx, open, row.id));
        await this.d.audit.record({
          actor, teamId: row.teamId, action: row.trigger === 'rollback' ? 'deployment.rollback' : 'deployment.create', targetType: 'deployment', targetId: row.id,
          details: { serviceId: row.serviceId, trigger: row.trigger, image: row.image, rollbackOf: row.rollbackOf, batchId: row.batchId },
        }, tx);
      }
    });
    // `deployment.queued` also pokes every replica's worker (engine.start subscribes to it), so work is claimed at once.
    await Promise.all(superseded.map((s) => this.publish({ type: 'deployment.superseded', teamId: s.teamId, serviceId: s.serviceId, deploymentId: s.id, reason: 'a newer deployment of the service was queued' })));
    await Promise.all(rows.map((r) => this.publish({ type: 'deployment.queued', teamId: r.teamId, serviceId: r.serviceId, deploymentId: r.id, reason: r.reason })));
    return rows;
  }

  /** supersede marks the service's open deployments `ids` (locked by the caller) superseded: queued ones at once, running ones by request. */
  private async supersede(tx: EntityManager, ids: string[], newId: string): Promise<DeploymentRow[]> {
    const out: DeploymentRow[] = [];
    for (const id of ids) {
      const r = await this.d.store.get(id, tx);
      if (!r) continue;
      if (r.state === 'queued') {
        const reason = `superseded by deployment ${newId} before it started`;
        await this.d.store.update(id, { state: 'superseded', reason, finishedAt: new Date(), step: 'done' }, tx);
        await this.d.store.addEvent(id, 'superseded', reason, { by: newId }, tx);
        out.push(r);
      } else {
        await this.d.store.update(id, { supersedeRequested: true }, tx);
        await this.d.store.addEvent(id, 'supersede_requested', `a newer deployment (${newId}) was queued`, { by: newId }, tx);
      }
    }
    return out;
  }

  /** get reads one deployment (read permission). */
  async get(actor: Actor, deploymentId: string, permission: Permission = 'read'): Promise<DeploymentRow> {
    const row = isUuid(deploymentId) ? await this.d.store.get(deploymentId) : null;
    if (!row) throw new DomainError('deployment/not_found');
    await requireAccess(this.d.access, actor, row, permission, 'deployment/not_found');
    return row;
  }

  /** list pages through a service's deployments, newest first (read permission). */
  async list(actor: Actor, serviceId: string, page: PageParams): Promise<Page<DeploymentRow>> {
    const svc = await this.service(actor, serviceId, 'read');
    const c = decodeCursor(page.cursor);
    if (c && (Number.isNaN(new Date(c.key).getTime()) || !isUuid(c.id))) throw badCursor();
    const rows = await this.d.store.listForService(svc.id, page.limit + 1, c);
    return toPage(rows, page.limit, (r) => ({ key: new Date(r.createdAt).toISOString(), id: r.id }));
  }

  /** listForDatabase pages through a database's own deployments, newest first (read permission); removed databases too. */
  async listForDatabase(actor: Actor, databaseId: string, page: PageParams): Promise<Page<DeploymentRow>> {
    const db = await loadOwned(this.d.access, actor, databaseId, 'read', 'database/not_found', (id) => this.d.dataSource.getRepository(DatabaseEntity).findOneBy({ id }));
    const c = decodeCursor(page.cursor);
    if (c && (Number.isNaN(new Date(c.key).getTime()) || !isUuid(c.id))) throw badCursor();
    const rows = await this.d.store.listForService(db.id, page.limit + 1, c);
    return toPage(rows, page.limit, (r) => ({ key: new Date(r.createdAt).toISOString(), id: r.id }));
  }

  /** events reads a deployment's own event log after event `after` (read permission). */
  async events(actor: Actor, deploymentId: string, after: number, limit: number) {
    const row = await this.get(actor, deploymentId);
    return this.d.store.events(row.id, after, limit);
  }

  /**
   * cancel stops a deployment: a queued one is cancelled at once; a running one is cancelled by its worker (which
   * fails the Nomad deployment so auto-revert restores the last good version, or stops a first deployment).
   * Cancelling a cancelled deployment answers it again; cancelling another finished one is `deployment/conflict`.
   */
  async cancel(actor: Actor, deploymentId: string): Promise<DeploymentRow> {
    const row = await this.get(actor, deploymentId, 'deploy');
    let published = false;
    await this.d.dataSource.transaction(async (tx) => {
      const r = await this.d.store.getForUpdate(tx, row.id);
      if (!r) throw new DomainError('deployment/not_found');
      if (r.state === 'cancelled' || (r.state === 'deploying' && r.cancelRequested)) return;
      if (r.state !== 'queued' && r.state !== 'deploying') throw new DomainError('deployment/conflict', `the deployment is ${r.state} already`);
      if (r.state === 'queued') {
        await this.d.store.update(r.id, { state: 'cancelled', reason: 'cancelled before it started', finishedAt: new Date(), step: 'done' }, tx);
        await this.d.store.addEvent(r.id, 'cancelled', 'cancelled before it started', { by: actor.userId }, tx);
        published = true;
      } else {
        await this.d.store.update(r.id, { cancelRequested: true }, tx);
        await this.d.store.addEvent(r.id, 'cancel_requested', 'cancel requested', { by: actor.userId }, tx);
      }
      await this.d.audit.record({ actor, teamId: r.teamId, action: 'deployment.cancel', targetType: 'deployment', targetId: r.id, details: { serviceId: r.serviceId, state: r.state } }, tx);
    });
    if (published) await this.publish({ type: 'deployment.cancelled', teamId: row.teamId, serviceId: row.serviceId, deploymentId: row.id, reason: 'cancelled before it started' });
    return (await this.d.store.get(row.id)) ?? row;
  }

  /**
   * rollback queues a new deployment that re-registers an earlier healthy deployment's stored job with that
   * deployment's variable values (its item keys and values, written again), whatever changed since.
   */
  async rollback(actor: Actor, deploymentId: string, reason?: string): Promise<DeploymentRow> {
    const target = await this.get(actor, deploymentId, 'deploy');
    // A database's stored job is not re-registered: going back to an older job could run an older major version on
    // data a newer one wrote, or lose the pin to its volume's node. Its data comes back through a backup restore.
    if (target.config['kind'] === 'database') {
      throw new DomainError('deployment/conflict', 'a database deployment cannot be rolled back: deploy the database again, change its version, or restore one of its backups');
    }
    if (!target.progress.registered || !(target.progress as { healthyAt?: string }).healthyAt) {
      throw new DomainError('deployment/conflict', 'only a deployment that became healthy can be rolled back to');
    }
    const id = randomUUID();
    const job = structuredClone(target.job) as unknown as BuiltDeployment['request'];
    job.Job.Meta = { ...(job.Job.Meta ?? {}), 'drover.deployment': id };
    const values = target.sealedValues ? openValues(this.d.secretKey, target.sealedValues, target.id) : {};
    const b: BuiltDeployment = {
      request: job, namespace: target.namespace, jobId: target.jobId, periodic: target.periodic, variablesPath: target.variablesPath,
      values, volumes: target.volumes, warnings: target.compileWarnings,
    };
    const row = this.record(id, b, {
      teamId: target.teamId, projectId: target.projectId, environmentId: target.environmentId, serviceId: target.serviceId, batchId: null,
      trigger: 'rollback', createdBy: actor.userId, now: this.d.clock.now(), reason: reason ?? `rollback to deployment ${target.id}`, config: target.config, rollbackOf: target.id,
    });
    const [r] = await this.insertQueued(actor, [row]);
    return r ?? row;
  }

  /** runtimeOf reads the runtime state of a deployed service, or throws `deployment/not_deployed`. */
  private async deployed(actor: Actor, serviceId: string): Promise<{ svc: ServiceRow; rt: RuntimeRow; current: DeploymentRow }> {
    const svc = await this.service(actor, serviceId, 'deploy');
    const rt = await this.d.store.runtime(svc.id);
    const current = rt?.currentDeploymentId ? await this.d.store.get(rt.currentDeploymentId) : null;
    if (!rt || !current || rt.desired !== 'running') throw new DomainError('deployment/not_deployed', 'the service is not running a deployment');
    return { svc, rt, current };
  }

  /** scale sets the replica count of the running job (not for cron services or services with volumes beyond 1). */
  async scale(actor: Actor, serviceId: string, replicas: number): Promise<{ serviceId: string; replicas: number }> {
    const { svc, rt, current } = await this.deployed(actor, serviceId);
    if (current.periodic) throw new DomainError('deployment/conflict', 'a cron service runs one instance per run');
    if (current.volumes.length > 0 && replicas > 1) {
      throw new DomainError('request/invalid', 'body.replicas: a service with volumes runs one replica', { errors: [{ path: 'body.replicas', message: 'a service with volumes runs one replica' }] });
    }
    const group = ((current.job as { Job: { TaskGroups: { Name: string }[] } }).Job.TaskGroups[0]?.Name) ?? '';
    try {
      await this.d.nomad.jobs.scale(rt.jobId, group, replicas, { message: `drover: scaled to ${replicas} by ${actor.userId}` }, { namespace: rt.namespace });
    } catch (e) {
      throw nomadOutage(e);
    }
    await this.d.dataSource.transaction(async (tx) => {
      await this.d.store.setRuntime({ ...rt, replicas }, tx);
      await this.d.audit.record({ actor, teamId: svc.teamId, action: 'service.scale', targetType: 'service', targetId: svc.id, details: { replicas } }, tx);
    });
    await this.publish({ type: 'service.scaled', teamId: svc.teamId, serviceId: svc.id, reason: `scaled to ${replicas}` });
    return { serviceId: svc.id, replicas };
  }

  /** restart restarts every running allocation of the service in place (Nomad's alloc restart). */
  async restart(actor: Actor, serviceId: string): Promise<{ serviceId: string; restarted: number }> {
    const { svc, rt } = await this.deployed(actor, serviceId);
    let restarted = 0;
    try {
      const allocs = (await this.d.nomad.jobs.allocations(rt.jobId, {}, { namespace: rt.namespace })).data;
      for (const a of allocs) {
        if (a.ClientStatus !== 'running' || !a.ID) continue;
        await this.d.nomad.allocations.restart(a.ID, { allTasks: true }, { namespace: rt.namespace });
        restarted++;
      }
    } catch (e) {
      throw nomadOutage(e);
    }
    await this.d.audit.record({ actor, teamId: svc.teamId, action: 'service.restart', targetType: 'service', targetId: svc.id, details: { restarted } });
    await this.publish({ type: 'service.restarted', teamId: svc.teamId, serviceId: svc.id, reason: `${restarted} allocation(s) restarted` });
    return { serviceId: svc.id, restarted };
  }

  /** stop stops the job (kept in Nomad, volumes untouched) and cancels deployments in flight. */
  async stop(actor: Actor, serviceId: string): Promise<{ serviceId: string; desired: string }> {
    const { svc, rt } = await this.deployed(actor, serviceId);
    await this.halt(actor, svc, rt, false);
    return { serviceId: svc.id, desired: 'stopped' };
  }

  /**
   * remove deregisters the job with purge and marks the service's deployments removed. Volumes are never deleted
   * here (destroying one is an explicit act elsewhere). Removing a never-deployed service cancels its queue only.
   */
  async remove(actor: Actor, serviceId: string): Promise<void> {
    const svc = await this.service(actor, serviceId, 'deploy');
    const rt = await this.d.store.runtime(svc.id);
    await this.halt(actor, svc, rt, true);
  }

  private async halt(actor: Actor, svc: ServiceRow, rt: RuntimeRow | null, purge: boolean): Promise<void> {
    if (rt) {
      try {
        await this.d.nomad.jobs.deregister(rt.jobId, { purge }, { namespace: rt.namespace });
      } catch (e) {
        if (!isNomadNotFound(e)) throw nomadOutage(e);
      }
    }
    const desired = purge ? 'removed' : 'stopped';
    await this.d.dataSource.transaction(async (tx) => {
      const open = (await tx.query("SELECT id, state FROM deployments WHERE service_id = $1 AND state IN ('queued', 'deploying') FOR UPDATE", [svc.id])) as { id: string; state: string }[];
      for (const o of open) {
        if (o.state === 'queued') {
          await this.d.store.update(o.id, { state: 'cancelled', reason: `cancelled: the service was ${desired}`, finishedAt: new Date(), step: 'done' }, tx);
          await this.d.store.addEvent(o.id, 'cancelled', `cancelled: the service was ${desired}`, undefined, tx);
        } else {
          await this.d.store.update(o.id, { cancelRequested: true }, tx);
          await this.d.store.addEvent(o.id, 'cancel_requested', `the service was ${desired}`, undefined, tx);
        }
      }
      if (purge) {
        const healthy = (await tx.query("UPDATE deployments SET state = 'removed', reason = 'the service was removed', updated_at = now() WHERE service_id = $1 AND state = 'healthy' RETURNING id", [svc.id])) as unknown[];
        void healthy;
      }
      if (rt) await this.d.store.setRuntime({ ...rt, desired, currentDeploymentId: purge ? null : rt.currentDeploymentId }, tx);
      await this.d.audit.record({ actor, teamId: svc.teamId, action: purge ? 'service.remove' : 'service.stop', targetType: 'service', targetId: svc.id, details: { jobId: rt?.jobId ?? null } }, tx);
    });
    await this.publish({ type: purge ? 'service.removed' : 'service.stopped', teamId: svc.teamId, serviceId: svc.id, reason: `the service was ${desired}` });
  }

  /** runs lists the runs of a cron service, newest first (read permission). */
  async runs(actor: Actor, serviceId: string, limit: number) {
    const svc = await this.service(actor, serviceId, 'read');
    return (await this.d.dataSource.query(
      `SELECT id, deployment_id AS "deploymentId", nomad_job_id AS "nomadJobId", status, output_tail AS "outputTail", started_at AS "startedAt", finished_at AS "finishedAt"
       FROM deployment_runs WHERE service_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`, [svc.id, limit],
    )) as { id: string; deploymentId: string | null; nomadJobId: string; status: string; outputTail: string | null; startedAt: Date; finishedAt: Date | null }[];
  }

  private service(actor: Actor, serviceId: string, permission: Permission): Promise<ServiceRow> {
    return loadOwned(this.d.access, actor, serviceId, permission, 'service/not_found',
      (id) => this.d.dataSource.getRepository(ServiceEntity).findOneBy({ id }));
  }

  private async publish(e: Parameters<typeof publishDeploymentEvent>[1]): Promise<void> {
    try {
      await publishDeploymentEvent(this.d.bus, e);
    } catch {
      // at most once: the durable record is the deployment's event log
    }
  }
}
