/**
 * BackupRunner takes queued backups (SKIP LOCKED, so several Drover processes never run one twice), runs each as a
 * Nomad batch job through DatabaseLifecycle and records judgeBackup's verdict: `succeeded` only with the dump task's
 * exit 0 and the object read back matching the dump file read through Nomad's fs API; anything else `failed` with the
 * reason (an outage too: the record says so rather than staying queued).
 */
import type { DataSource } from 'typeorm';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { ClusterSettings, DesiredState } from '@drover/scheduler/compiler/model.ts';
import type { AccessChecker } from '../core/access.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { EnvironmentEntity } from '../environments/environment.entity.ts';
import { ProjectEntity } from '../projects/project.entity.ts';
import { TeamEntity } from '../teams/team.entity.ts';
import { DatabaseEntity } from '../databases/database.entity.ts';
import { DatabaseLifecycle } from '../databases/lifecycle.ts';
import { DatabaseCredentials, destinationOwner } from '../databases/credentials.ts';
import { toModel } from '../databases/service.ts';
import { BackupEntity, DestinationEntity, type BackupRow } from './backup.entity.ts';

/** BackupRunnerDeps are the runner's adapters. */
export interface BackupRunnerDeps {
  /** dataSource reads and claims backups. */
  dataSource: DataSource;
  /** nomad is the scheduler client. */
  nomad: NomadClient;
  /** settings are the cluster settings jobs are compiled with. */
  settings: ClusterSettings;
  /** volumePlugin is the dynamic host volume plugin. */
  volumePlugin: string;
  /** secrets holds credentials and destination keys. */
  secrets: SecretStore;
  /** access and audit are passed to the lifecycle. */
  access: AccessChecker;
  /** audit records volume destruction in the lifecycle. */
  audit: AuditRecorder;
  /** clock stamps verdicts. */
  clock: { now(): Date };
  /** pollMs and batchTimeoutMs tune waiting for the batch job. */
  pollMs?: number;
  /** batchTimeoutMs bounds one backup. */
  batchTimeoutMs?: number;
}

/** BackupRunner runs queued backups. */
export class BackupRunner {
  private readonly d: BackupRunnerDeps;
  constructor(d: BackupRunnerDeps) {
    this.d = d;
  }

  /** claim marks up to `limit` queued backups running and returns them. */
  private async claim(limit: number): Promise<BackupRow[]> {
    return this.d.dataSource.transaction(async (tx) => {
      const rows = await tx.getRepository(BackupEntity).createQueryBuilder('b').where("b.status = 'queued'").orderBy('b.created_at', 'ASC').limit(limit)
        .setLock('pessimistic_write').setOnLocked('skip_locked').getMany();
      if (rows.length > 0) await tx.getRepository(BackupEntity).update(rows.map((r) => r.id), { status: 'running' });
      return rows;
    });
  }

  /** runQueued runs up to `limit` queued backups and returns how many it judged. */
  async runQueued(limit = 5): Promise<number> {
    const rows = await this.claim(limit);
    for (const row of rows) await this.runOne(row);
    return rows.length;
  }

  private async finish(row: BackupRow, v: { status: 'succeeded' | 'failed'; reason: string | null; objectKey: string | null; digest: { size: number; sha256: string } | null }): Promise<void> {
    await this.d.dataSource.getRepository(BackupEntity).update({ id: row.id }, {
      status: v.status, reason: v.reason, objectKey: v.objectKey, sizeBytes: v.digest ? String(v.digest.size) : null, sha256: v.digest?.sha256 ?? null,
      finishedAt: new Date(this.d.clock.now().getTime()),
    });
  }

  private async runOne(row: BackupRow): Promise<void> {
    try {
      const m = this.d.dataSource.manager;
      const db = await m.getRepository(DatabaseEntity).findOneByOrFail({ id: row.databaseId });
      const env = await m.getRepository(EnvironmentEntity).findOneByOrFail({ id: db.environmentId });
      const project = await m.getRepository(ProjectEntity).findOneByOrFail({ id: db.projectId });
      const team = await m.getRepository(TeamEntity).findOneByOrFail({ id: db.teamId });
      const dest = await m.getRepository(DestinationEntity).findOneByOrFail({ id: row.destinationId });
      const keys = await this.d.secrets.read(destinationOwner(db.teamId, dest.id));
      const state: DesiredState = {
        team: { id: team.id, slug: team.slug, limits: { maxCpu: 64_000, maxMemoryMB: 262_144, maxMemoryMaxMB: 524_288, maxReplicas: 100 } },
        project: { id: project.id, slug: project.slug }, environment: { id: env.id, slug: env.slug }, deployment: { id: row.id },
        services: [], databases: [], shared: [], settings: this.d.settings,
      };
      const lifecycle = new DatabaseLifecycle({
        nomad: this.d.nomad, volumePlugin: this.d.volumePlugin, resolve: new DatabaseCredentials(this.d.dataSource, this.d.secrets).resolver(db.teamId),
        access: this.d.access, audit: this.d.audit, ...(this.d.pollMs ? { pollMs: this.d.pollMs } : {}), ...(this.d.batchTimeoutMs ? { batchTimeoutMs: this.d.batchTimeoutMs } : {}),
      });
      const run = await lifecycle.backup(state, toModel(db), {
        destination: { id: dest.id, endpoint: dest.endpoint, region: dest.region, bucket: dest.bucket }, backupId: row.id,
        credentials: { accessKeyId: keys.get('ACCESS_KEY_ID') ?? '', secretAccessKey: keys.get('SECRET_ACCESS_KEY') ?? '' },
      });
      await this.finish(row, { ...run.verdict, objectKey: run.objectKey });
    } catch (e) {
      await this.finish(row, { status: 'failed', reason: `the backup could not run: ${(e as Error).message}`, objectKey: null, digest: null });
    }
  }
}
