/**
 * DatabasesService: the API side of managed databases. Creating one generates its credentials into the SecretStore;
 * a version change of another major records a new volume and keeps the old one; removing keeps the row and the
 * volume; destroying the volume is its own act (owners and admins, the database's name typed as confirmation),
 * audited, and the only path to a volume delete. Nomad is driven by DatabaseLifecycle (lifecycle.ts).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ENGINES, databaseJobId } from '@drover/scheduler/compiler/database.ts';
import type { Database } from '@drover/scheduler/compiler/model.ts';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import type { Page, PageParams } from '../core/pagination.ts';
import { EnvironmentEntity } from '../environments/environment.entity.ts';
import { ProjectEntity } from '../projects/project.entity.ts';
import { ServiceEntity } from '../service-configs/service.entity.ts';
import { isUniqueViolation, keysetPage, loadOwned, now, type ScopeDeps } from '../projects/scope.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { DatabaseCredentials } from './credentials.ts';
import { DatabaseEntity, type DatabaseRow } from './database.entity.ts';
import { lockHostname } from '../domains/database-hostnames.ts';
import { checkPublicHostname, defaultPublicHostname, PUBLIC_OFF, type DatabasePublicSettings } from './public.ts';
import { DomainEntity } from '../domains/domain.entity.ts';

/** GiB is 2^30 bytes. */
export const GiB = 1024 ** 3;

/** CreateDatabaseInput is what creating a database takes. */
export interface CreateDatabaseInput {
  /** name is the slug. */
  name: string;
  /** engine is the engine. */
  engine: DatabaseRow['engine'];
  /** version is a supported major version (default: the newest). */
  version?: string | undefined;
  /** sizeGiB is the volume size in GiB (default 1). */
  sizeGiB?: number | undefined;
}

/** VolumeDestroyer deletes a database's volumes on Nomad (DatabaseLifecycle.destroyVolume); absent while no cluster is configured. */
export type VolumeDestroyer = (actor: Actor, row: DatabaseRow, volumeIds: string[]) => Promise<void>;

/** DatabasesDeps are the service's adapters. */
export interface DatabasesDeps extends ScopeDeps {
  /** dataSource runs queries and transactions. */
  dataSource: DataSource;
  /** secrets holds the generated credentials. */
  secrets: SecretStore;
  /** destroyVolumes deletes volumes on the cluster; without it only never-deployed databases can be destroyed. */
  destroyVolumes?: VolumeDestroyer;
  /** volumePlugin is the configured host volume plugin (DROVER_VOLUME_PLUGIN, default `mkdir`), shown before a volume exists. */
  volumePlugin?: string;
  /** publicAccess are the operator's settings for public databases (default: off). */
  publicAccess?: DatabasePublicSettings;
}

/** PublicAccessInput turns a database's public access on (with a hostname, or a generated one) or off. */
export interface PublicAccessInput {
  /** enabled opens (true) or closes (false) public access. */
  enabled: boolean;
  /** hostname is one label under the apps domain (default `<name>-<id prefix>.<apps domain>`); ignored when closing. */
  hostname?: string | undefined;
}

/** toModel is the compiler's view of a database row. */
export function toModel(r: DatabaseRow): Database {
  return { id: r.id, name: r.name, engine: r.engine, version: r.version, volume: { id: r.volumeId, sizeBytes: Number(r.sizeBytes) }, resources: {} };
}

/** DatabasesService manages databases. */
export class DatabasesService {
  private readonly d: DatabasesDeps;
  private readonly credentials: DatabaseCredentials;
  constructor(d: DatabasesDeps) {
    this.d = d;
    this.credentials = new DatabaseCredentials(d.dataSource, d.secrets);
  }

  /** volumePlugin is the configured host volume plugin new volumes are created with. */
  get volumePlugin(): string {
    return this.d.volumePlugin ?? 'mkdir';
  }

  private find = (id: string): Promise<DatabaseRow | null> => this.d.dataSource.getRepository(DatabaseEntity).findOneBy({ id });

  /** create adds a database to an environment and generates its credentials (write permission). */
  async create(actor: Actor, environmentId: string, input: CreateDatabaseInput): Promise<DatabaseRow> {
    const env = await loadOwned(this.d.access, actor, environmentId, 'write', 'environment/not_found', (id) => this.d.dataSource.getRepository(EnvironmentEntity).findOneBy({ id }));
    const spec = ENGINES[input.engine];
    const version = input.version ?? spec.versions.at(-1) ?? '';
    if (!spec.versions.includes(version)) throw new DomainError('database/invalid', `version ${version} is not supported`, { errors: [{ path: 'body.version', message: `must be one of ${spec.versions.join(', ')}` }] });
    if (input.name === 'shared') throw new DomainError('database/invalid', 'shared is reserved', { errors: [{ path: 'body.name', message: 'is reserved for shared variables' }] });
    const at = now(this.d.clock);
    const row: DatabaseRow = {
      id: randomUUID(), teamId: env.teamId, projectId: env.projectId, environmentId: env.id, name: input.name, engine: input.engine, version,
      sizeBytes: String((input.sizeGiB ?? 1) * GiB), volumeId: randomUUID(), previousVolumeIds: [], removedAt: null, volumeDestroyedAt: null, createdAt: at, updatedAt: at,
    };
    try {
      await this.d.dataSource.transaction(async (tx) => {
        if (await tx.getRepository(ServiceEntity).existsBy({ environmentId: env.id, slug: input.name })) throw new DomainError('database/name_taken', undefined, { errors: [{ path: 'body.name', message: 'a service of this environment has this name' }] });
        await tx.getRepository(DatabaseEntity).insert(row);
        await this.d.audit.record({ actor, teamId: env.teamId, action: 'database.create', targetType: 'database', targetId: row.id, details: { name: row.name, engine: row.engine, version } }, tx);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'databases_live_name_uq')) throw new DomainError('database/name_taken', undefined, { errors: [{ path: 'body.name', message: 'a database of this environment has this name' }] });
      throw e;
    }
    await this.credentials.ensure(row.teamId, toModel(row));
    return row;
  }

  /** list pages through an environment's databases, removed ones included (read permission). */
  async list(actor: Actor, environmentId: string, page: PageParams): Promise<Page<DatabaseRow>> {
    await loadOwned(this.d.access, actor, environmentId, 'read', 'environment/not_found', (id) => this.d.dataSource.getRepository(EnvironmentEntity).findOneBy({ id }));
    const qb = this.d.dataSource.getRepository(DatabaseEntity).createQueryBuilder('d').where('d.environment_id = :environmentId', { environmentId });
    return keysetPage(qb, 'd', page);
  }

  /** catalogName is the database's job ID, the catalog service its HOST and PORT are read from at run time. */
  async catalogName(row: DatabaseRow): Promise<string> {
    const env = await this.d.dataSource.getRepository(EnvironmentEntity).findOneByOrFail({ id: row.environmentId });
    const project = await this.d.dataSource.getRepository(ProjectEntity).findOneByOrFail({ id: row.projectId });
    return databaseJobId({ project: { id: project.id, slug: project.slug }, environment: { id: env.id, slug: env.slug } } as never, toModel(row));
  }

  /** get returns one database (read permission). */
  get(actor: Actor, id: string): Promise<DatabaseRow> {
    return loadOwned(this.d.access, actor, id, 'read', 'database/not_found', this.find);
  }

  /**
   * changeVersion sets the version (write permission). Another major version gets a NEW volume at the next deploy
   * (dump, restore); the current one is kept in previousVolumeIds. Returns whether it is a major upgrade.
   */
  async changeVersion(actor: Actor, id: string, version: string): Promise<{ row: DatabaseRow; major: boolean }> {
    const row = await loadOwned(this.d.access, actor, id, 'write', 'database/not_found', this.find);
    if (row.removedAt) throw new DomainError('database/not_found');
    const spec = ENGINES[row.engine];
    if (!spec.versions.includes(version)) throw new DomainError('database/invalid', `version ${version} is not supported`, { errors: [{ path: 'body.version', message: `must be one of ${spec.versions.join(', ')}` }] });
    if (version === row.version) return { row, major: false };
    const next: DatabaseRow = { ...row, version, volumeId: randomUUID(), previousVolumeIds: [...row.previousVolumeIds, row.volumeId], updatedAt: now(this.d.clock) };
    await this.d.dataSource.transaction(async (tx) => {
      // A second change before the deploy keeps the version the data is really in.
      await tx.getRepository(DatabaseEntity).update({ id }, { version, volumeId: next.volumeId, previousVolumeIds: next.previousVolumeIds, upgradeFromVersion: row.upgradeFromVersion ?? row.version, updatedAt: next.updatedAt });
      await this.d.audit.record({ actor, teamId: row.teamId, action: 'database.version_change', targetType: 'database', targetId: id, details: { from: row.version, to: version, keptVolume: row.volumeId } }, tx);
    });
    return { row: next, major: true };
  }

  /** publicSettings are the operator's public access settings this service applies. */
  get publicSettings(): DatabasePublicSettings {
    return this.d.publicAccess ?? PUBLIC_OFF;
  }

  /**
   * setPublic opens or closes a database's public access (write permission), audited; it takes effect at the next
   * deploy of the environment. Opening needs the cluster's public access (DROVER_DB_PUBLIC_ACCESS); the hostname is
   * one label under the apps domain, unique across all teams (and not a service's domain); one MySQL database at most.
   */
  async setPublic(actor: Actor, id: string, input: PublicAccessInput): Promise<DatabaseRow> {
    const row = await loadOwned(this.d.access, actor, id, 'write', 'database/not_found', this.find);
    if (row.removedAt) throw new DomainError('database/not_found');
    const s = this.publicSettings;
    let hostname: string | null = null;
    if (input.enabled) {
      if (!s.enabled) throw new DomainError('database/invalid', 'public database access is off on this cluster (DROVER_DB_PUBLIC_ACCESS)', { errors: [{ path: 'body.public.enabled', message: 'public database access is off on this cluster' }] });
      hostname = checkPublicHostname(input.hostname ?? defaultPublicHostname(row, s.appsDomain), s.appsDomain);
    }
    if ((row.publicHostname ?? null) === hostname) return row;
    const taken = (message: string): DomainError => new DomainError('database/public_taken', message, { errors: [{ path: 'body.public.hostname', message }] });
    const at = now(this.d.clock);
    try {
      await this.d.dataSource.transaction(async (tx) => {
        if (hostname !== null) await lockHostname(tx, hostname);
        if (hostname !== null && await tx.getRepository(DomainEntity).existsBy({ hostname })) throw taken('is a service domain');
        await tx.getRepository(DatabaseEntity).update({ id }, { publicHostname: hostname, updatedAt: at });
        await this.d.audit.record({
          actor, teamId: row.teamId, action: hostname ? 'database.public_open' : 'database.public_close', targetType: 'database', targetId: id,
          details: { name: row.name, hostname: hostname ?? row.publicHostname ?? null },
        }, tx);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'databases_public_hostname_uq')) throw taken('is already in use');
      if (isUniqueViolation(e, 'databases_public_mysql_uq')) throw taken("another MySQL database already holds the cluster's one public MySQL entry point");
      throw e;
    }
    return { ...row, publicHostname: hostname, updatedAt: at };
  }

  /** remove removes a database (write permission): its job stops at the next deploy, its row and volumes stay. */
  async remove(actor: Actor, id: string): Promise<void> {
    const row = await loadOwned(this.d.access, actor, id, 'write', 'database/not_found', this.find);
    if (row.removedAt) throw new DomainError('database/not_found');
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(DatabaseEntity).update({ id }, { removedAt: now(this.d.clock), updatedAt: now(this.d.clock) });
      await this.d.audit.record({ actor, teamId: row.teamId, action: 'database.remove', targetType: 'database', targetId: id, details: { name: row.name, volumeKept: true } }, tx);
    });
  }

  /** revealCredentials returns the generated credentials (reveal permission), audited; addresses are rendered at run time. */
  async revealCredentials(actor: Actor, id: string): Promise<Map<string, string>> {
    const row = await loadOwned(this.d.access, actor, id, 'reveal', 'database/not_found', this.find);
    const values = await this.credentials.ensure(row.teamId, toModel(row));
    await this.d.audit.record({ actor, teamId: row.teamId, action: 'database.credentials_reveal', targetType: 'database', targetId: id, details: { name: row.name } });
    return values;
  }

  /**
   * destroyVolume destroys a database's volumes and data (manage permission: owners and admins) when `confirmation`
   * is the database's name; a live database is removed by the same act. Audited.
   */
  async destroyVolume(actor: Actor, id: string, confirmation: string): Promise<void> {
    const row = await loadOwned(this.d.access, actor, id, 'manage', 'database/not_found', this.find);
    if (row.volumeDestroyedAt) throw new DomainError('database/not_found');
    if (confirmation !== row.name) throw new DomainError('database/confirmation_mismatch', undefined, { errors: [{ path: 'headers.drover-confirm', message: "must be the database's name" }] });
    const volumes = [...row.previousVolumeIds, row.volumeId];
    if (this.d.destroyVolumes) await this.d.destroyVolumes(actor, row, volumes);
    const at = now(this.d.clock);
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(DatabaseEntity).update({ id }, { removedAt: row.removedAt ?? at, volumeDestroyedAt: at, updatedAt: at });
      await this.d.audit.record({ actor, teamId: row.teamId, action: 'database.volume_destroy', targetType: 'database', targetId: id, details: { name: row.name, volumes } }, tx);
    });
  }
}
