/**
 * The `backup_destinations` and `backups` tables.
 */
import { EntitySchema } from 'typeorm';

/** DestinationRow is one row of `backup_destinations`; its access keys live in the SecretStore. */
export interface DestinationRow {
  /** id is the destination's UUID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** name is its display name (unique per team). */
  name: string;
  /** endpoint is the S3 API URL. */
  endpoint: string;
  /** region is the signing region ('' when ignored). */
  region: string;
  /** bucket is the bucket. */
  bucket: string;
  /** createdAt is the creation time. */
  createdAt: Date;
  /** updatedAt is the last change time. */
  updatedAt: Date;
}

/** DestinationEntity maps DestinationRow to `backup_destinations`. */
export const DestinationEntity = new EntitySchema<DestinationRow>({
  name: 'BackupDestination',
  tableName: 'backup_destinations',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    name: { type: 'varchar', length: 64 },
    endpoint: { type: 'varchar', length: 512 },
    region: { type: 'varchar', length: 32 },
    bucket: { type: 'varchar', length: 63 },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});

/** BackupRow is one row of `backups`: a backup and its verdict. */
export interface BackupRow {
  /** id is the backup's UUID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** projectId is the owning project. */
  projectId: string;
  /** databaseId is the database backed up. */
  databaseId: string;
  /** destinationId is where it goes. */
  destinationId: string;
  /** trigger says why it ran. */
  trigger: 'manual' | 'schedule' | 'safety' | 'upgrade';
  /** status is queued, running, succeeded (dump exit 0 and the object verified) or failed. */
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  /** reason says why it failed. */
  reason: string | null;
  /** objectKey is the object's key. */
  objectKey: string | null;
  /** sizeBytes is the dump file's size (bigint as string). */
  sizeBytes: string | null;
  /** sha256 is the dump file's SHA-256. */
  sha256: string | null;
  /** createdAt is when it was requested. */
  createdAt: Date;
  /** finishedAt is when its verdict was taken. */
  finishedAt: Date | null;
  /** prunedAt is when its object was deleted for being beyond the schedule's retention count (null: kept). */
  prunedAt?: Date | null;
}

/** BackupEntity maps BackupRow to `backups`. */
export const BackupEntity = new EntitySchema<BackupRow>({
  name: 'Backup',
  tableName: 'backups',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    projectId: { type: 'uuid', name: 'project_id' },
    databaseId: { type: 'uuid', name: 'database_id' },
    destinationId: { type: 'uuid', name: 'destination_id' },
    trigger: { type: 'varchar', length: 16 },
    status: { type: 'varchar', length: 16 },
    reason: { type: 'text', nullable: true },
    objectKey: { type: 'varchar', length: 1024, name: 'object_key', nullable: true },
    sizeBytes: { type: 'bigint', name: 'size_bytes', nullable: true },
    sha256: { type: 'char', length: 64, nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    finishedAt: { type: 'timestamptz', name: 'finished_at', nullable: true },
    prunedAt: { type: 'timestamptz', name: 'pruned_at', nullable: true },
  },
});

/** BackupCheckRow is one row of `backup_checks`: a restore or a restore verification of a backup. */
export interface BackupCheckRow {
  /** id is the check's UUID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** backupId is the backup restored or verified. */
  backupId: string;
  /** databaseId is the database restored into (a restore) or whose backup is verified. */
  databaseId: string;
  /** kind is `restore` (into the same database, after a safety backup) or `verify` (into a scratch instance). */
  kind: 'restore' | 'verify';
  /** trigger is `manual` or `schedule` (the weekly verification). */
  trigger: 'manual' | 'schedule';
  /** status is queued, running, succeeded or failed. */
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  /** reason says why it failed. */
  reason: string | null;
  /** safetyBackupId is the backup taken before a restore into the same database. */
  safetyBackupId: string | null;
  /** intoNew says a restore went into a NEW database (databaseId), created for it; the backup's own database is untouched. */
  intoNew?: boolean;
  /** counts are what a verification found (tables and rows, keys, collections), by name. */
  counts: Record<string, number> | null;
  /** createdAt is when it was requested. */
  createdAt: Date;
  /** finishedAt is when it ended. */
  finishedAt: Date | null;
}

/** BackupCheckEntity maps BackupCheckRow to `backup_checks`. */
export const BackupCheckEntity = new EntitySchema<BackupCheckRow>({
  name: 'BackupCheck',
  tableName: 'backup_checks',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    backupId: { type: 'uuid', name: 'backup_id' },
    databaseId: { type: 'uuid', name: 'database_id' },
    kind: { type: 'varchar', length: 16 },
    trigger: { type: 'varchar', length: 16 },
    status: { type: 'varchar', length: 16 },
    reason: { type: 'text', nullable: true },
    safetyBackupId: { type: 'uuid', name: 'safety_backup_id', nullable: true },
    intoNew: { type: 'boolean', name: 'into_new', default: false },
    counts: { type: 'jsonb', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    finishedAt: { type: 'timestamptz', name: 'finished_at', nullable: true },
  },
});
