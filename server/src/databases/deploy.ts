/**
 * DatabaseDeployer: the deployment engine's hook for managed databases. Before a deployment of an environment's
 * service is planned, every live database of that environment is deployed through DatabaseLifecycle (its volume
 * created once and the job pinned to the volume's node, credentials written as data, the job registered), and every
 * removed database whose job still runs is deregistered — its volume is never deleted here (only destroyVolume does).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { hostVolumeCreateRequest } from '@drover/scheduler/databases/jobs.ts';
import { DomainError } from '../core/errors.ts';
import { BackupEntity, DestinationEntity } from '../backups/backup.entity.ts';
import { destinationOwner } from './credentials.ts';
import type { DatabaseRow } from './database.entity.ts';
import type { ClusterSettings, Database, DesiredState } from '@drover/scheduler/compiler/model.ts';
import { databaseJobId } from '@drover/scheduler/compiler/database.ts';
import { namespaceName } from '@drover/scheduler/compiler/names.ts';
import { isNomadNotFound } from '@drover/scheduler/nomad/index.ts';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import type { AccessChecker } from '../core/access.ts';
import type { AuditRecorder } from '../core/audit.ts';
import { EnvironmentEntity } from '../environments/environment.entity.ts';
import { ProjectEntity } from '../projects/project.entity.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { TeamEntity } from '../teams/team.entity.ts';
import { DatabaseCredentials } from './credentials.ts';
import { DatabaseEntity } from './database.entity.ts';
import { DatabaseLifecycle } from './lifecycle.ts';
import type { BackupRun, DeployResult } from './lifecycle.ts';
import { toModel } from './service.ts';
import { recordVolume } from './volume.ts';
import { PUBLIC_OFF, withPublicAccess, type DatabasePublicSettings } from './public.ts';

/** DatabaseDeployerDeps are the adapters the deployer drives. */
export interface DatabaseDeployerDeps {
  /** dataSource reads database rows. */
  dataSource: DataSource;
  /** secrets holds the generated credentials. */
  secrets: SecretStore;
  /** nomad is the scheduler client. */
  nomad: NomadClient;
  /** settings are the cluster settings the jobs compile with (Vault mode: credentials as KV versions the jobs pin). */
  settings: ClusterSettings;
  /** vault writes the credentials in Vault mode (KV v2 under the settings' `kvMount`). */
  vault?: Pick<VaultAdapter, 'writeSecret'>;
  /** volumePlugin is the dynamic host volume plugin (default `mkdir`). */
  volumePlugin?: string;
  /** access and audit are handed to the lifecycle (it uses them only to destroy a volume, which the deployer never does). */
  access: AccessChecker;
  /** audit records lifecycle acts. */
  audit: AuditRecorder;
  /** publicAccess are the operator's public database settings: a public row's job carries Traefik TCP router tags (default: off). */
  publicAccess?: DatabasePublicSettings;
}

/** SyncResult says what one sync did. */
export interface SyncResult {
  /** deployed are the live databases deployed (volume ensured, job registered). */
  deployed: DeployResult[];
  /**
   * unchanged are the live databases whose running job already has this exact specification and credentials: nothing
   * was written or registered for them (their allocations keep running); each names the deployment it still runs.
   */
  unchanged: (DeployResult & { name: string; unchanged: { deploymentId: string } })[];
  /** removed are the removed databases whose jobs were deregistered (volumes kept): ID, name and job ID. */
  removed: { databaseId: string; name: string; jobId: string }[];
}

/** SYNC_LOCK_POLL_MS is how often a sync waiting for another sync of the same environment tries the lock again. */
const SYNC_LOCK_POLL_MS = 100;

/** DatabaseDeployer brings an environment's database jobs in line with its database rows. */
export class DatabaseDeployer {
  private readonly d: DatabaseDeployerDeps;
  constructor(d: DatabaseDeployerDeps) {
    this.d = d;
  }

  /**
   * sync deploys the live databases of `environmentId` and deregisters the removed ones (volumes kept); with `only`,
   * just that database (its own deployment). A database whose running job already has the specification and
   * credentials this deploy would give it is left alone (`unchanged`): an environment deploy restarts a database only
   * when something about it changed. `force` (an explicit deploy of the database) registers it anyway. Syncs of one
   * environment run one at a time across replicas (a Postgres advisory lock), so the deployments of one environment
   * deploy never register the same database twice.
   */
  async sync(teamId: string, environmentId: string, deploymentId: string, only?: string, o: { force?: boolean } = {}): Promise<SyncResult> {
    // An environment without databases (most deployments) costs one query and takes no lock.
    const any = await this.d.dataSource.getRepository(DatabaseEntity).exists({ where: { environmentId, teamId, ...(only ? { id: only } : {}) } });
    if (!any) return { deployed: [], unchanged: [], removed: [] };
    return this.exclusive(environmentId, () => this.syncLocked(teamId, environmentId, deploymentId, only, o.force === true));
  }

  /**
   * exclusive runs `fn` holding the session advisory lock of the environment's database sync. A waiter holds no
   * pooled connection while it waits (it tries the lock every SYNC_LOCK_POLL_MS), so waiters never starve the holder.
   */
  private async exclusive<T>(environmentId: string, fn: () => Promise<T>): Promise<T> {
    const key = `drover.database-sync:${environmentId}`;
    for (;;) {
      const qr = this.d.dataSource.createQueryRunner();
      let held = false;
      try {
        const [r] = (await qr.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key])) as { ok: boolean }[];
        held = r?.ok === true;
        if (held) return await fn();
      } finally {
        if (held) await qr.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
        await qr.release();
      }
      await new Promise((r) => setTimeout(r, SYNC_LOCK_POLL_MS));
    }
  }

  private async syncLocked(teamId: string, environmentId: string, deploymentId: string, only: string | undefined, force: boolean): Promise<SyncResult> {
    const m = this.d.dataSource.manager;
    const rows = await m.getRepository(DatabaseEntity).find({ where: { environmentId, teamId, ...(only ? { id: only } : {}) }, order: { createdAt: 'ASC', id: 'ASC' } });
    if (rows.length === 0) return { deployed: [], unchanged: [], removed: [] };
    const env = await m.getRepository(EnvironmentEntity).findOneByOrFail({ id: environmentId, teamId });
    const project = await m.getRepository(ProjectEntity).findOneByOrFail({ id: env.projectId, teamId });
    const team = await m.getRepository(TeamEntity).findOneByOrFail({ id: teamId });
    const state: DesiredState = {
      team: { id: team.id, slug: team.slug, limits: { maxCpu: 64_000, maxMemoryMB: 262_144, maxMemoryMaxMB: 524_288, maxReplicas: 100 } },
      project: { id: project.id, slug: project.slug }, environment: { id: env.id, slug: env.slug }, deployment: { id: deploymentId },
      services: [], databases: [], shared: [], settings: this.d.settings,
    };
    const credentials = new DatabaseCredentials(this.d.dataSource, this.d.secrets);
    const lifecycle = new DatabaseLifecycle({
      nomad: this.d.nomad, volumePlugin: this.d.volumePlugin ?? 'mkdir', resolve: credentials.resolver(teamId), access: this.d.access, audit: this.d.audit,
      ...(this.d.vault ? { vault: this.d.vault } : {}),
    });
    const result: SyncResult = { deployed: [], unchanged: [], removed: [] };
    for (const row of rows) {
      const model = withPublicAccess(toModel(row), row, this.d.publicAccess ?? PUBLIC_OFF);
      if (!row.removedAt) {
        await credentials.ensure(teamId, model);
        const deployed = row.upgradeFromVersion ? await this.upgrade(state, lifecycle, row, model) : await lifecycle.deploy(state, model, { force });
        // The size the plugin really gave (CapacityBytes), shown beside the one requested; see volume.ts.
        await recordVolume(this.d.dataSource, row.id, deployed.database.volume.id, deployed.volume, new Date());
        if (deployed.unchanged) result.unchanged.push({ ...deployed, name: row.name, unchanged: deployed.unchanged });
        else result.deployed.push(deployed);
        continue;
      }
      if (row.volumeDestroyedAt) continue;
      const jobId = databaseJobId(state, model);
      const namespace = namespaceName(team.slug, team.id);
      let live;
      try {
        live = (await this.d.nomad.jobs.info(jobId, { namespace })).data;
      } catch (e) {
        if (isNomadNotFound(e)) continue;
        throw e;
      }
      if (live.Stop) continue;
      await lifecycle.remove(state, model);
      result.removed.push({ databaseId: row.id, name: row.name, jobId });
    }
    return result;
  }

  /**
   * upgrade performs a recorded major version change: a backup of the old version on its volume (trigger `upgrade`,
   * recorded), the new version on its NEW volume, a restore into it; the old volume is kept. A database never deployed
   * before, or changed back to the version its data is in, just deploys on the volume that holds the data. `model` is
   * the row's compiler model (with its public access), as the sync built it.
   */
  private async upgrade(state: DesiredState, lifecycle: DatabaseLifecycle, row: DatabaseRow, model: Database): Promise<DeployResult> {
    const from = row.upgradeFromVersion ?? row.version;
    const plugin = this.d.volumePlugin ?? 'mkdir';
    const repo = this.d.dataSource.getRepository(DatabaseEntity);
    const ns = namespaceName(state.team.slug, state.team.id);
    const existing = new Set((await this.d.nomad.hostVolumes.list({}, { namespace: ns })).data.map((v) => v.Name));
    const nameOf = (volumeId: string): string => hostVolumeCreateRequest(state, { ...model, volume: { ...model.volume, id: volumeId } }, plugin).Volume.Name;
    const dataVolumeId = [...row.previousVolumeIds].reverse().find((id) => existing.has(nameOf(id)));
    if (!dataVolumeId) {
      await repo.update({ id: row.id }, { upgradeFromVersion: null });
      return lifecycle.deploy(state, model);
    }
    if (from === row.version) {
      // Changed back before any deploy: the data is on the old volume, in this very version.
      await repo.update({ id: row.id }, { volumeId: dataVolumeId, previousVolumeIds: row.previousVolumeIds.filter((v) => v !== dataVolumeId).concat(row.volumeId), upgradeFromVersion: null });
      return lifecycle.deploy(state, { ...model, volume: { ...model.volume, id: dataVolumeId } });
    }
    if (!row.backupDestinationId) {
      throw new DomainError('database/invalid', `database ${row.name}: the major upgrade ${from} → ${row.version} dumps and restores through a backup destination; set the database's backup schedule first`, {
        errors: [{ path: `databases.${row.name}.backupDestinationId`, message: 'is required for a major upgrade' }],
      });
    }
    const dest = await this.d.dataSource.getRepository(DestinationEntity).findOneByOrFail({ id: row.backupDestinationId });
    const keys = await this.d.secrets.read(destinationOwner(row.teamId, dest.id));
    const backupId = randomUUID();
    const startedAt = new Date();
    let recorded = false;
    // The backup of the old version is recorded with its own verdict as soon as it is judged, whatever follows.
    const record = async (run: BackupRun | null, failure: string | null): Promise<void> => {
      recorded = true;
      const v = run?.verdict;
      await this.d.dataSource.getRepository(BackupEntity).insert({
        id: backupId, teamId: row.teamId, projectId: row.projectId, databaseId: row.id, destinationId: dest.id, trigger: 'upgrade',
        status: v?.status ?? 'failed', reason: v ? v.reason : failure, objectKey: run?.objectKey ?? null, sizeBytes: v?.digest ? String(v.digest.size) : null,
        sha256: v?.digest?.sha256 ?? null, createdAt: startedAt, finishedAt: new Date(),
      });
    };
    let r: Awaited<ReturnType<DatabaseLifecycle['changeVersion']>>;
    try {
      r = await lifecycle.changeVersion(state, { ...model, version: from, volume: { ...model.volume, id: dataVolumeId } }, row.version, {
        newVolumeId: row.volumeId, destination: { id: dest.id, endpoint: dest.endpoint, region: dest.region, bucket: dest.bucket }, backupId, restoreId: randomUUID(),
        credentials: { accessKeyId: keys.get('ACCESS_KEY_ID') ?? '', secretAccessKey: keys.get('SECRET_ACCESS_KEY') ?? '' },
        onBackup: (run) => record(run, null),
      });
    } catch (e) {
      const failure = (e as Error).message;
      if (!recorded) await record(null, failure);
      if (!(e instanceof DomainError) || e.code === 'nomad/unavailable') throw e;
      throw new DomainError('backup/failed', `database ${row.name}: the major upgrade ${from} → ${row.version} failed (${failure}); the old volume and its data are kept`);
    }
    await repo.update({ id: row.id }, { upgradeFromVersion: null });
    return r.deployed;
  }
}
