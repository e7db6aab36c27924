/**
 * BackupRunner takes queued backups (SKIP LOCKED, so several Drover processes never run one twice), runs each as a
 * Nomad batch job through DatabaseLifecycle and records judgeBackup's verdict: `succeeded` only with the dump task's
 * exit 0 and the object read back matching the dump file read through Nomad's fs API; anything else `failed` with the
 * reason (an outage too: the record says so rather than staying queued).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { nextCronTime, parseCron } from '@drover/scheduler/nomad-validate/cron.ts';
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
import { recordVolume } from '../databases/volume.ts';
import { publishDeploymentEvent } from '../deployments/events.ts';
import type { EventBus } from '../platform/coordination/types.ts';
import { BackupCheckEntity, BackupEntity, DestinationEntity, type BackupCheckRow, type BackupRow } from './backup.entity.ts';
import { DEFAULT_VERIFY_SCHEDULE } from './outcome.ts';
import { deleteObject } from './s3.ts';
import type { VaultAdapter } from '@drover/scheduler/vault/index.ts';

/** BackupRunnerDeps are the runner's adapters. */
export interface BackupRunnerDeps {
  /** dataSource reads and claims backups. */
  dataSource: DataSource;
  /** nomad is the scheduler client. */
  nomad: NomadClient;
  /** settings are the cluster settings jobs are compiled with. */
  settings: ClusterSettings;
  /** vault writes the jobs' credentials in Vault mode (settings.secrets.kind `vault`), as the deployment engine does. */
  vault?: Pick<VaultAdapter, 'writeSecret'>;
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
  /**
   * bus receives every verdict on the deployment events channel, so SSE clients and webhooks see it: `backup.succeeded`
   * or `backup.failed` (with the reason), `restore.succeeded|failed`, `verification.succeeded|failed`.
   */
  bus?: EventBus;
  /** intervalMs is the pause between ticks of a started runner (default 15 s). */
  intervalMs?: number;
  /** onError hears a tick that failed (an outage); the runner carries on at the next tick. */
  onError?: (e: unknown) => void;
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
    return (await this.claimAndRun(limit)).length;
  }

  private async claimAndRun(limit: number): Promise<BackupRow[]> {
    const rows = await this.claim(limit);
    for (const row of rows) await this.runOne(row);
    return rows;
  }

  private async finish(row: BackupRow, v: { status: 'succeeded' | 'failed'; reason: string | null; objectKey: string | null; digest: { size: number; sha256: string } | null }): Promise<void> {
    await this.d.dataSource.getRepository(BackupEntity).update({ id: row.id }, {
      status: v.status, reason: v.reason, objectKey: v.objectKey, sizeBytes: v.digest ? String(v.digest.size) : null, sha256: v.digest?.sha256 ?? null,
      finishedAt: new Date(this.d.clock.now().getTime()),
    });
    if (this.d.bus) {
      // The database stands where a service would (serviceId): subscribers filter by team and project and show the reason.
      await publishDeploymentEvent(this.d.bus, {
        type: `backup.${v.status}`, teamId: row.teamId, serviceId: row.databaseId, databaseId: row.databaseId, backupId: row.id,
        ...(v.status === 'failed' ? { reason: `backup ${row.id} failed: ${v.reason ?? 'unknown'}` } : {}),
      }).catch((e: unknown) => this.d.onError?.(e));
    }
  }

  /**
   * queueScheduled queues a `schedule` backup for every live database whose cron fired since its last scheduled
   * backup (or since the schedule was saved). The database row is locked while deciding, so replicas queue one.
   * Returns how many it queued.
   */
  async queueScheduled(): Promise<number> {
    const now = this.d.clock.now();
    const due = await this.d.dataSource.getRepository(DatabaseEntity).createQueryBuilder('d')
      .where('d.backup_cron IS NOT NULL AND d.backup_destination_id IS NOT NULL AND d.removed_at IS NULL').getMany();
    let queued = 0;
    for (const db of due) {
      queued += await this.d.dataSource.transaction(async (tx) => {
        const locked = await tx.getRepository(DatabaseEntity).createQueryBuilder('d').where('d.id = :id', { id: db.id }).setLock('pessimistic_write').getOne();
        if (!locked?.backupCron || !locked.backupDestinationId || locked.removedAt) return 0;
        const last = await tx.getRepository(BackupEntity).createQueryBuilder('b').where("b.database_id = :id AND b.trigger = 'schedule'", { id: db.id })
          .orderBy('b.created_at', 'DESC').getOne();
        const since = last && last.createdAt > locked.updatedAt ? last.createdAt : locked.updatedAt;
        let next: Date | undefined;
        try {
          next = nextCronTime(parseCron(locked.backupCron), since);
        } catch {
          return 0;
        }
        if (!next || next > now) return 0;
        await tx.getRepository(BackupEntity).insert({
          id: randomUUID(), teamId: locked.teamId, projectId: locked.projectId, databaseId: locked.id, destinationId: locked.backupDestinationId,
          trigger: 'schedule', status: 'queued', reason: null, objectKey: null, sizeBytes: null, sha256: null, createdAt: now, finishedAt: null,
        });
        return 1;
      });
    }
    return queued;
  }

  /**
   * prune keeps a database's newest `backupKeep` succeeded scheduled backups: each older scheduled backup that left an
   * object (succeeded or failed with a partial upload) has the object deleted from its destination, then is marked
   * pruned. A delete that fails leaves the record unmarked (retried at the next prune). Returns how many it pruned.
   */
  async prune(databaseId: string): Promise<number> {
    const m = this.d.dataSource.manager;
    const db = await m.getRepository(DatabaseEntity).findOneBy({ id: databaseId });
    if (!db?.backupKeep) return 0;
    const rows = await m.getRepository(BackupEntity).createQueryBuilder('b')
      .where("b.database_id = :id AND b.trigger = 'schedule' AND b.status IN ('succeeded', 'failed') AND b.pruned_at IS NULL", { id: databaseId })
      .orderBy('b.created_at', 'DESC').addOrderBy('b.id', 'DESC').getMany();
    const kept = rows.filter((r) => r.status === 'succeeded').slice(0, db.backupKeep);
    const oldestKept = kept.at(-1);
    if (kept.length < db.backupKeep || !oldestKept) return 0;
    let pruned = 0;
    for (const r of rows) {
      if (kept.includes(r) || r.createdAt > oldestKept.createdAt) continue;
      if (r.objectKey) {
        const dest = await m.getRepository(DestinationEntity).findOneByOrFail({ id: r.destinationId });
        const keys = await this.d.secrets.read(destinationOwner(r.teamId, dest.id));
        await deleteObject({ endpoint: dest.endpoint, region: dest.region, bucket: dest.bucket, key: r.objectKey },
          { accessKeyId: keys.get('ACCESS_KEY_ID') ?? '', secretAccessKey: keys.get('SECRET_ACCESS_KEY') ?? '' });
      }
      await m.getRepository(BackupEntity).update({ id: r.id }, { prunedAt: new Date(this.d.clock.now().getTime()) });
      pruned++;
    }
    return pruned;
  }

  /** tick queues due scheduled backups, runs the queued ones and prunes beyond each schedule's retention count. */
  async tick(): Promise<void> {
    await this.queueScheduled();
    await this.queueVerifications();
    const ran = await this.claimAndRun(5);
    await this.runChecks(5);
    for (const id of new Set(ran.filter((r) => r.trigger === 'schedule').map((r) => r.databaseId))) await this.prune(id);
  }

  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private running = false;

  /** start runs `tick` now and then every `intervalMs` until stop (idempotent); a failed tick is reported to onError. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = (): void => {
      if (!this.running) return;
      this.current = this.tick().catch((e: unknown) => this.d.onError?.(e)).finally(() => {
        this.current = null;
        if (this.running) this.timer = setTimeout(loop, this.d.intervalMs ?? 15_000);
      });
    };
    loop();
  }

  /** stop ends the loop and waits for the tick in flight (a backup it runs is judged before stop resolves). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }

  /** context loads what a job of one database needs: its desired state, lifecycle, destination and keys. */
  private async context(databaseId: string, destinationId: string, jobKeyId: string) {
    const m = this.d.dataSource.manager;
    const db = await m.getRepository(DatabaseEntity).findOneByOrFail({ id: databaseId });
    const env = await m.getRepository(EnvironmentEntity).findOneByOrFail({ id: db.environmentId });
    const project = await m.getRepository(ProjectEntity).findOneByOrFail({ id: db.projectId });
    const team = await m.getRepository(TeamEntity).findOneByOrFail({ id: db.teamId });
    const dest = await m.getRepository(DestinationEntity).findOneByOrFail({ id: destinationId });
    const keys = await this.d.secrets.read(destinationOwner(db.teamId, dest.id));
    const state: DesiredState = {
      team: { id: team.id, slug: team.slug, limits: { maxCpu: 64_000, maxMemoryMB: 262_144, maxMemoryMaxMB: 524_288, maxReplicas: 100 } },
      project: { id: project.id, slug: project.slug }, environment: { id: env.id, slug: env.slug }, deployment: { id: jobKeyId },
      services: [], databases: [], shared: [], settings: this.d.settings,
    };
    const lifecycle = new DatabaseLifecycle({
      nomad: this.d.nomad, volumePlugin: this.d.volumePlugin, resolve: new DatabaseCredentials(this.d.dataSource, this.d.secrets).resolver(db.teamId),
      access: this.d.access, audit: this.d.audit, ...(this.d.vault ? { vault: this.d.vault } : {}), ...(this.d.pollMs ? { pollMs: this.d.pollMs } : {}), ...(this.d.batchTimeoutMs ? { batchTimeoutMs: this.d.batchTimeoutMs } : {}),
    });
    return {
      db, state, lifecycle,
      destination: { id: dest.id, endpoint: dest.endpoint, region: dest.region, bucket: dest.bucket },
      credentials: { accessKeyId: keys.get('ACCESS_KEY_ID') ?? '', secretAccessKey: keys.get('SECRET_ACCESS_KEY') ?? '' },
    };
  }

  private async runOne(row: BackupRow): Promise<void> {
    try {
      const c = await this.context(row.databaseId, row.destinationId, row.id);
      const run = await c.lifecycle.backup(c.state, toModel(c.db), { destination: c.destination, backupId: row.id, credentials: c.credentials });
      await this.finish(row, { ...run.verdict, objectKey: run.objectKey });
    } catch (e) {
      await this.finish(row, { status: 'failed', reason: `the backup could not run: ${(e as Error).message}`, objectKey: null, digest: null });
    }
  }

  /**
   * queueVerifications queues the weekly restore verification (DEFAULT_VERIFY_SCHEDULE, UTC) of each live database's
   * newest kept succeeded backup, once per firing (the database row locked while deciding). Returns how many.
   */
  async queueVerifications(): Promise<number> {
    const now = this.d.clock.now();
    const cron = parseCron(DEFAULT_VERIFY_SCHEDULE);
    const live = await this.d.dataSource.getRepository(DatabaseEntity).createQueryBuilder('d').where('d.removed_at IS NULL').getMany();
    let queued = 0;
    for (const db of live) {
      queued += await this.d.dataSource.transaction(async (tx) => {
        const locked = await tx.getRepository(DatabaseEntity).createQueryBuilder('d').where('d.id = :id', { id: db.id }).setLock('pessimistic_write').getOne();
        if (!locked || locked.removedAt) return 0;
        const last = await tx.getRepository(BackupCheckEntity).createQueryBuilder('c').where("c.database_id = :id AND c.kind = 'verify' AND c.trigger = 'schedule'", { id: db.id })
          .orderBy('c.created_at', 'DESC').getOne();
        const next = nextCronTime(cron, last?.createdAt ?? locked.createdAt);
        if (!next || next > now) return 0;
        const newest = await tx.getRepository(BackupEntity).createQueryBuilder('b')
          .where("b.database_id = :id AND b.status = 'succeeded' AND b.pruned_at IS NULL AND b.object_key IS NOT NULL", { id: db.id })
          .orderBy('b.created_at', 'DESC').getOne();
        if (!newest) return 0;
        await tx.getRepository(BackupCheckEntity).insert({
          id: randomUUID(), teamId: locked.teamId, backupId: newest.id, databaseId: locked.id, kind: 'verify', trigger: 'schedule', status: 'queued',
          reason: null, safetyBackupId: null, counts: null, createdAt: now, finishedAt: null,
        });
        return 1;
      });
    }
    return queued;
  }

  /** runChecks runs up to `limit` queued restores and verifications and returns how many it ran. */
  async runChecks(limit = 5): Promise<number> {
    const rows = await this.d.dataSource.transaction(async (tx) => {
      const r = await tx.getRepository(BackupCheckEntity).createQueryBuilder('c').where("c.status = 'queued'").orderBy('c.created_at', 'ASC').limit(limit)
        .setLock('pessimistic_write').setOnLocked('skip_locked').getMany();
      if (r.length > 0) await tx.getRepository(BackupCheckEntity).update(r.map((x) => x.id), { status: 'running' });
      return r;
    });
    for (const row of rows) await this.runCheck(row);
    return rows.length;
  }

  private async finishCheck(row: BackupCheckRow, v: { status: 'succeeded' | 'failed'; reason: string | null; counts: Record<string, number> | null; safetyBackupId?: string | null }): Promise<void> {
    await this.d.dataSource.getRepository(BackupCheckEntity).update({ id: row.id }, {
      status: v.status, reason: v.reason, counts: v.counts, ...(v.safetyBackupId !== undefined ? { safetyBackupId: v.safetyBackupId } : {}),
      finishedAt: new Date(this.d.clock.now().getTime()),
    });
    if (this.d.bus) {
      const what = row.kind === 'verify' ? 'verification' : 'restore';
      await publishDeploymentEvent(this.d.bus, {
        type: `${what}.${v.status}`, teamId: row.teamId, serviceId: row.databaseId, databaseId: row.databaseId, backupId: row.backupId, checkId: row.id,
        ...(v.status === 'failed' ? { reason: `${what} ${row.id} of backup ${row.backupId} failed: ${v.reason ?? 'unknown'}` } : {}),
      }).catch((e: unknown) => this.d.onError?.(e));
    }
  }

  /** markNewDatabase records how a restore into a new database ended on that database (and when). */
  private async markNewDatabase(databaseId: string, status: 'succeeded' | 'failed', reason: string | null): Promise<void> {
    await this.d.dataSource.getRepository(DatabaseEntity).update({ id: databaseId }, { restoreStatus: status, restoreReason: reason, updatedAt: new Date(this.d.clock.now().getTime()) });
  }

  /**
   * restoreIntoNew deploys the NEW database the restore created (its own volume and credentials), waits for it to be
   * healthy and restores the backup into it (Redis: stopped, the RDB placed, started again). The database is marked
   * succeeded, or failed with the reason; the backup's own database is never read or touched.
   */
  private async restoreIntoNew(row: BackupCheckRow, c: Awaited<ReturnType<BackupRunner['context']>>, objectKey: string): Promise<void> {
    try {
      if (c.db.removedAt) throw new Error('the new database was removed before the restore ran');
      const deployed = await c.lifecycle.deploy(c.state, toModel(c.db));
      await recordVolume(this.d.dataSource, row.databaseId, deployed.database.volume.id, deployed.volume, new Date(this.d.clock.now().getTime()));
      await c.lifecycle.waitHealthy(c.state, deployed.jobId);
      await c.lifecycle.restore(c.state, toModel(c.db), { restoreId: row.id, destination: c.destination, objectKey });
    } catch (e) {
      const reason = `the restore into the new database failed: ${(e as Error).message}`;
      await this.markNewDatabase(row.databaseId, 'failed', reason);
      await this.finishCheck(row, { status: 'failed', reason, counts: null });
      return;
    }
    await this.markNewDatabase(row.databaseId, 'succeeded', null);
    await this.finishCheck(row, { status: 'succeeded', reason: null, counts: null });
  }

  private async runCheck(row: BackupCheckRow): Promise<void> {
    let safetyBackupId: string | null = null;
    try {
      const backup = await this.d.dataSource.getRepository(BackupEntity).findOneByOrFail({ id: row.backupId });
      if (backup.status !== 'succeeded' || !backup.objectKey || backup.prunedAt) {
        const reason = 'the backup is not restorable (not succeeded, or pruned)';
        if (row.intoNew) await this.markNewDatabase(row.databaseId, 'failed', reason);
        await this.finishCheck(row, { status: 'failed', reason, counts: null });
        return;
      }
      const c = await this.context(row.databaseId, backup.destinationId, row.id);
      if (row.kind === 'verify') {
        const v = await c.lifecycle.verify(c.state, toModel(c.db), { verificationId: row.id, destination: c.destination, objectKey: backup.objectKey });
        await this.finishCheck(row, v);
        return;
      }
      if (row.intoNew) {
        await this.restoreIntoNew(row, c, backup.objectKey);
        return;
      }
      // A restore replaces the database's data: a safety backup of it comes first, and nothing is restored without it.
      const safety: BackupRow = {
        id: randomUUID(), teamId: row.teamId, projectId: c.db.projectId, databaseId: row.databaseId, destinationId: backup.destinationId, trigger: 'safety',
        status: 'running', reason: null, objectKey: null, sizeBytes: null, sha256: null, createdAt: new Date(this.d.clock.now().getTime()), finishedAt: null,
      };
      await this.d.dataSource.getRepository(BackupEntity).insert(safety);
      safetyBackupId = safety.id;
      await this.runOne(safety);
      const judged = await this.d.dataSource.getRepository(BackupEntity).findOneByOrFail({ id: safety.id });
      if (judged.status !== 'succeeded') {
        await this.finishCheck(row, { status: 'failed', reason: `the safety backup failed (${judged.reason ?? 'unknown'}); nothing was restored`, counts: null, safetyBackupId });
        return;
      }
      await c.lifecycle.restore(c.state, toModel(c.db), { restoreId: row.id, destination: c.destination, objectKey: backup.objectKey });
      await this.finishCheck(row, { status: 'succeeded', reason: null, counts: null, safetyBackupId });
    } catch (e) {
      const reason = `the ${row.kind} could not run: ${(e as Error).message}`;
      if (row.intoNew) await this.markNewDatabase(row.databaseId, 'failed', reason);
      await this.finishCheck(row, { status: 'failed', reason, counts: null, safetyBackupId });
    }
  }
}
