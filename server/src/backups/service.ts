/**
 * BackupsService: a team's S3-compatible backup destinations (access keys in the SecretStore, never returned), a
 * database's backup schedule (cron and retention count), on-demand backups and the backup records with their verdict.
 * Backups run as Nomad batch jobs (DatabaseLifecycle.backup) and are recorded `succeeded` only by judgeBackup.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { parseCron } from '@drover/scheduler/nomad-validate/cron.ts';
import { BUCKET_PATTERN } from '@drover/scheduler/databases/argv.ts';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import type { Page, PageParams } from '../core/pagination.ts';
import { keysetPage, loadOwned, now, isUniqueViolation, type ScopeDeps } from '../projects/scope.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { DatabaseCredentials, destinationOwner } from '../databases/credentials.ts';
import { DatabaseEntity, type DatabaseRow } from '../databases/database.entity.ts';
import { withSecrets } from '../secrets/secret-store.ts';
import { EnvironmentEntity } from '../environments/environment.entity.ts';
import { ServiceEntity } from '../service-configs/service.entity.ts';
import { toModel } from '../databases/service.ts';
import { BackupCheckEntity, BackupEntity, DestinationEntity, type BackupCheckRow, type BackupRow, type DestinationRow } from './backup.entity.ts';

/** DestinationInput is what creating a destination takes. */
export interface DestinationInput {
  /** name is the display name. */
  name: string;
  /** endpoint is the http(s) URL of the S3 API. */
  endpoint: string;
  /** region is the signing region. */
  region?: string | undefined;
  /** bucket is the bucket. */
  bucket: string;
  /** accessKeyId is stored in the SecretStore. */
  accessKeyId: string;
  /** secretAccessKey is stored in the SecretStore. */
  secretAccessKey: string;
}

/** BackupsDeps are the service's adapters. */
export interface BackupsDeps extends ScopeDeps {
  /** dataSource runs queries. */
  dataSource: DataSource;
  /** secrets holds destination keys. */
  secrets: SecretStore;
}

const invalid = (path: string, message: string): DomainError => new DomainError('backup/invalid', `${path} ${message}`, { errors: [{ path, message }] });

/** BackupsService manages destinations, schedules and backup records. */
export class BackupsService {
  private readonly d: BackupsDeps;
  private readonly credentials: DatabaseCredentials;
  constructor(d: BackupsDeps) {
    this.d = d;
    this.credentials = new DatabaseCredentials(d.dataSource, d.secrets);
  }

  /** createDestination adds a team destination (manage permission); the keys go to the SecretStore. */
  async createDestination(actor: Actor, teamId: string, input: DestinationInput): Promise<DestinationRow> {
    await this.d.access.requireTeam(actor, teamId, 'manage');
    let url: URL;
    try {
      url = new URL(input.endpoint);
    } catch {
      throw invalid('body.endpoint', 'is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('body.endpoint', 'must be http(s)');
    if (url.username || url.password || url.search || url.hash) throw invalid('body.endpoint', 'must not hold credentials, a query or a fragment');
    if (!BUCKET_PATTERN.test(input.bucket)) throw invalid('body.bucket', 'is not a valid bucket name');
    const region = input.region ?? '';
    if (!/^[a-z0-9-]{0,32}$/.test(region)) throw invalid('body.region', 'is not a region name');
    const at = now(this.d.clock);
    const row: DestinationRow = { id: randomUUID(), teamId, name: input.name, endpoint: url.origin, region, bucket: input.bucket, createdAt: at, updatedAt: at };
    try {
      await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
        await tx.getRepository(DestinationEntity).insert(row);
        await secrets.write(destinationOwner(teamId, row.id), new Map([['ACCESS_KEY_ID', input.accessKeyId], ['SECRET_ACCESS_KEY', input.secretAccessKey]]));
        await this.d.audit.record({ actor, teamId, action: 'backup_destination.create', targetType: 'backup_destination', targetId: row.id, details: { name: row.name, endpoint: row.endpoint, bucket: row.bucket } }, tx);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'backup_destinations_team_name_uq')) throw new DomainError('backup/conflict', undefined, { errors: [{ path: 'body.name', message: 'a destination of this team has this name' }] });
      throw e;
    }
    return row;
  }

  /** listDestinations pages through a team's destinations (read permission). */
  async listDestinations(actor: Actor, teamId: string, page: PageParams): Promise<Page<DestinationRow>> {
    await this.d.access.requireTeam(actor, teamId, 'read');
    return keysetPage(this.d.dataSource.getRepository(DestinationEntity).createQueryBuilder('b').where('b.team_id = :teamId', { teamId }), 'b', page);
  }

  private async destinationOf(teamId: string, id: string): Promise<DestinationRow> {
    const row = /^[0-9a-f-]{36}$/.test(id) ? await this.d.dataSource.getRepository(DestinationEntity).findOneBy({ id, teamId }) : null;
    if (!row) throw invalid('body.destinationId', 'is not a destination of this team');
    return row;
  }

  /** setSchedule sets (or clears, with null) a database's backup schedule (write permission). */
  async setSchedule(actor: Actor, databaseId: string, s: { destinationId: string; cron: string; keep: number } | null): Promise<DatabaseRow> {
    const db = await loadOwned(this.d.access, actor, databaseId, 'write', 'database/not_found', (id) => this.d.dataSource.getRepository(DatabaseEntity).findOneBy({ id }));
    if (s) {
      await this.destinationOf(db.teamId, s.destinationId);
      try {
        parseCron(s.cron);
      } catch (e) {
        throw invalid('body.cron', (e as Error).message);
      }
      if (s.cron.trim().split(/\s+/).length !== 5) throw invalid('body.cron', 'must have five fields');
    }
    const patch = { backupDestinationId: s?.destinationId ?? null, backupCron: s?.cron ?? null, backupKeep: s?.keep ?? null, updatedAt: now(this.d.clock) };
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(DatabaseEntity).update({ id: databaseId }, patch);
      await this.d.audit.record({ actor, teamId: db.teamId, action: 'database.backup_schedule', targetType: 'database', targetId: databaseId, details: { cron: patch.backupCron, keep: patch.backupKeep } }, tx);
    });
    return { ...db, ...patch };
  }

  /** requestBackup records an on-demand backup as queued (deploy permission); the backup runner takes it from there. */
  async requestBackup(actor: Actor, databaseId: string, destinationId: string): Promise<BackupRow> {
    const db = await loadOwned(this.d.access, actor, databaseId, 'deploy', 'database/not_found', (id) => this.d.dataSource.getRepository(DatabaseEntity).findOneBy({ id }));
    if (db.removedAt) throw new DomainError('database/not_found');
    await this.destinationOf(db.teamId, destinationId);
    const row: BackupRow = {
      id: randomUUID(), teamId: db.teamId, projectId: db.projectId, databaseId, destinationId, trigger: 'manual', status: 'queued',
      reason: null, objectKey: null, sizeBytes: null, sha256: null, createdAt: now(this.d.clock), finishedAt: null,
    };
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(BackupEntity).insert(row);
      await this.d.audit.record({ actor, teamId: db.teamId, action: 'backup.request', targetType: 'backup', targetId: row.id, details: { databaseId } }, tx);
    });
    return row;
  }

  /** listBackups pages through a database's backups, newest last (read permission). */
  async listBackups(actor: Actor, databaseId: string, page: PageParams): Promise<Page<BackupRow>> {
    await loadOwned(this.d.access, actor, databaseId, 'read', 'database/not_found', (id) => this.d.dataSource.getRepository(DatabaseEntity).findOneBy({ id }));
    return keysetPage(this.d.dataSource.getRepository(BackupEntity).createQueryBuilder('k').where('k.database_id = :databaseId', { databaseId }), 'k', page);
  }

  private findBackup = (id: string): Promise<BackupRow | null> => this.d.dataSource.getRepository(BackupEntity).findOneBy({ id });

  /** getBackup returns a backup with its restores and verifications, newest first (read permission). */
  async getBackup(actor: Actor, backupId: string): Promise<{ backup: BackupRow; checks: BackupCheckRow[] }> {
    const backup = await loadOwned(this.d.access, actor, backupId, 'read', 'backup/not_found', this.findBackup);
    const checks = await this.d.dataSource.getRepository(BackupCheckEntity).find({ where: { backupId }, order: { createdAt: 'DESC', id: 'DESC' }, take: 50 });
    return { backup, checks };
  }

  /**
   * requestCheck queues a restore of a succeeded backup into its own database (the runner takes a safety backup of
   * the database first and restores only when that succeeded) or a verification into a scratch instance (deploy
   * permission, audited). A backup that has not succeeded is `backup/not_ready` (409).
   */
  async requestCheck(actor: Actor, backupId: string, kind: 'restore' | 'verify'): Promise<BackupCheckRow> {
    const backup = await loadOwned(this.d.access, actor, backupId, 'deploy', 'backup/not_found', this.findBackup);
    if (backup.status !== 'succeeded' || !backup.objectKey || backup.prunedAt) {
      throw new DomainError('backup/not_ready', `only a succeeded backup whose object is kept can be ${kind === 'restore' ? 'restored' : 'verified'} (this one is ${backup.prunedAt ? 'pruned' : backup.status})`);
    }
    const db = await this.d.dataSource.getRepository(DatabaseEntity).findOneBy({ id: backup.databaseId });
    if (!db || db.removedAt) throw new DomainError('database/not_found');
    const row: BackupCheckRow = {
      id: randomUUID(), teamId: backup.teamId, backupId, databaseId: backup.databaseId, kind, trigger: 'manual', status: 'queued',
      reason: null, safetyBackupId: null, counts: null, createdAt: now(this.d.clock), finishedAt: null,
    };
    await this.d.dataSource.transaction(async (tx) => {
      await tx.getRepository(BackupCheckEntity).insert(row);
      await this.d.audit.record({ actor, teamId: backup.teamId, action: `backup.${kind}`, targetType: 'backup', targetId: backupId, details: { checkId: row.id, databaseId: backup.databaseId } }, tx);
    });
    return row;
  }

  /**
   * requestRestoreIntoNew queues a restore of a succeeded backup into a NEW database named `name` in `environmentId`
   * (default: the backup's environment, same team): the database is created now with the source's engine, version and
   * size, a new volume and newly generated credentials, marked `restoring`; the runner deploys it and restores the
   * backup into it, then marks it succeeded or failed with the reason. The backup's own database is never touched (no
   * safety backup is needed). Deploy permission on the backup and on the target environment; audited.
   */
  async requestRestoreIntoNew(actor: Actor, backupId: string, target: { name: string; environmentId?: string | undefined }): Promise<{ check: BackupCheckRow; database: DatabaseRow }> {
    const backup = await loadOwned(this.d.access, actor, backupId, 'deploy', 'backup/not_found', this.findBackup);
    if (backup.status !== 'succeeded' || !backup.objectKey || backup.prunedAt) {
      throw new DomainError('backup/not_ready', `only a succeeded backup whose object is kept can be restored (this one is ${backup.prunedAt ? 'pruned' : backup.status})`);
    }
    const source = await this.d.dataSource.getRepository(DatabaseEntity).findOneBy({ id: backup.databaseId });
    if (!source) throw new DomainError('database/not_found');
    const env = await loadOwned(this.d.access, actor, target.environmentId ?? source.environmentId, 'deploy', 'environment/not_found',
      (id) => this.d.dataSource.getRepository(EnvironmentEntity).findOneBy({ id }));
    // A backup's destination and keys belong to its team: another team's environment is not a target.
    if (env.teamId !== backup.teamId) throw new DomainError('environment/not_found');
    if (target.name === 'shared') throw invalid('body.name', 'is reserved for shared variables');
    const at = now(this.d.clock);
    const database: DatabaseRow = {
      id: randomUUID(), teamId: env.teamId, projectId: env.projectId, environmentId: env.id, name: target.name, engine: source.engine, version: source.version,
      sizeBytes: source.sizeBytes, volumeId: randomUUID(), previousVolumeIds: [], removedAt: null, volumeDestroyedAt: null,
      restoreStatus: 'restoring', restoreReason: null, restoredFromBackupId: backup.id, createdAt: at, updatedAt: at,
    };
    const check: BackupCheckRow = {
      id: randomUUID(), teamId: backup.teamId, backupId, databaseId: database.id, kind: 'restore', trigger: 'manual', status: 'queued',
      reason: null, safetyBackupId: null, intoNew: true, counts: null, createdAt: at, finishedAt: null,
    };
    try {
      await this.d.dataSource.transaction(async (tx) => {
        if (await tx.getRepository(ServiceEntity).existsBy({ environmentId: env.id, slug: target.name })) {
          throw new DomainError('database/name_taken', undefined, { errors: [{ path: 'body.name', message: 'a service of this environment has this name' }] });
        }
        await tx.getRepository(DatabaseEntity).insert(database);
        await tx.getRepository(BackupCheckEntity).insert(check);
        await this.d.audit.record({ actor, teamId: env.teamId, action: 'database.create', targetType: 'database', targetId: database.id, details: { name: database.name, engine: database.engine, version: database.version, restoredFromBackupId: backup.id } }, tx);
        await this.d.audit.record({ actor, teamId: backup.teamId, action: 'backup.restore', targetType: 'backup', targetId: backupId, details: { checkId: check.id, databaseId: database.id, intoNew: true, sourceDatabaseId: source.id } }, tx);
      });
    } catch (e) {
      if (isUniqueViolation(e, 'databases_live_name_uq')) throw new DomainError('database/name_taken', undefined, { errors: [{ path: 'body.name', message: 'a database of this environment has this name' }] });
      throw e;
    }
    await this.credentials.ensure(database.teamId, toModel(database));
    return { check, database };
  }

  /** recordVerdict stores a backup's verdict (the runner calls it with judgeBackup's result). */
  async recordVerdict(id: string, v: { status: 'succeeded' | 'failed'; reason: string | null; objectKey: string; digest: { size: number; sha256: string } | null }): Promise<void> {
    await this.d.dataSource.getRepository(BackupEntity).update({ id }, {
      status: v.status, reason: v.reason, objectKey: v.objectKey, sizeBytes: v.digest ? String(v.digest.size) : null, sha256: v.digest?.sha256 ?? null, finishedAt: now(this.d.clock),
    });
  }

  /** resolver resolves a team's backup job data items (credentials, destination keys). */
  resolver(teamId: string): ReturnType<DatabaseCredentials['resolver']> {
    return this.credentials.resolver(teamId);
  }
}
