/**
 * The `databases` table: managed databases of an environment. A removed database keeps its row and its volume.
 */
import { EntitySchema } from 'typeorm';

/** DatabaseRow is one row of `databases`. */
export interface DatabaseRow {
  /** id is the database's UUID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** projectId is the owning project. */
  projectId: string;
  /** environmentId is the environment it belongs to. */
  environmentId: string;
  /** name is its immutable slug (referenced as `${{ name.VAR }}`). */
  name: string;
  /** engine is postgres, mysql, redis or mongodb. */
  engine: 'postgres' | 'mysql' | 'redis' | 'mongodb';
  /** version is the major version. */
  version: string;
  /** sizeBytes is the requested volume size (bigint, read as a string by pg). */
  sizeBytes: string;
  /** volumeId is the ID of its current data volume. */
  volumeId: string;
  /** previousVolumeIds are the volumes earlier major versions used; they are kept. */
  previousVolumeIds: string[];
  /** removedAt is when it was removed (its volume kept); null while live. */
  removedAt: Date | null;
  /** volumeDestroyedAt is when its volume was destroyed by an explicit, confirmed act. */
  volumeDestroyedAt: Date | null;
  /** upgradeFromVersion is the version a recorded major upgrade comes from, until the next deploy performs it. */
  upgradeFromVersion?: string | null;
  /** publicHostname is the public hostname when its team opened it to the internet (null: private, the default). */
  publicHostname?: string | null;
  /** backupDestinationId is where scheduled backups go (null: no schedule). */
  backupDestinationId?: string | null;
  /** backupCron is the backup schedule (five-field cron, UTC). */
  backupCron?: string | null;
  /** backupKeep is how many scheduled backups are kept. */
  backupKeep?: number | null;
  /** restoreStatus marks a database created by a restore of a backup into a new database: restoring, succeeded or failed (null: not one). */
  restoreStatus?: 'restoring' | 'succeeded' | 'failed' | null;
  /** restoreReason says why that restore failed. */
  restoreReason?: string | null;
  /** restoredFromBackupId is the backup such a database was restored from. */
  restoredFromBackupId?: string | null;
  /** volumeObserved is the volume as Nomad reported it at the last deploy (null until created); see volume.ts. */
  volumeObserved?: VolumeObserved | null;
  /** createdAt is the creation time. */
  createdAt: Date;
  /** updatedAt is the last change time. */
  updatedAt: Date;
}

/** VolumeObserved is a database volume as Nomad reported it when a deploy created or read it. */
export interface VolumeObserved {
  /** volumeId is Drover's ID of the volume (the row's volumeId at the time). */
  volumeId: string;
  /** nomadId is Nomad's ID of the volume. */
  nomadId: string;
  /** plugin is the PluginID that created it. */
  plugin: string;
  /** nodeId is the node holding it. */
  nodeId: string;
  /** capacityBytes is Nomad's CapacityBytes (0: the plugin enforces no size). */
  capacityBytes: number;
  /** at is when it was read (ISO time). */
  at: string;
}

/** DatabaseEntity maps DatabaseRow to `databases`. */
export const DatabaseEntity = new EntitySchema<DatabaseRow>({
  name: 'Database',
  tableName: 'databases',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    projectId: { type: 'uuid', name: 'project_id' },
    environmentId: { type: 'uuid', name: 'environment_id' },
    name: { type: 'varchar', length: 30 },
    engine: { type: 'varchar', length: 16 },
    version: { type: 'varchar', length: 8 },
    sizeBytes: { type: 'bigint', name: 'size_bytes' },
    volumeId: { type: 'uuid', name: 'volume_id' },
    previousVolumeIds: { type: 'uuid', array: true, name: 'previous_volume_ids' },
    removedAt: { type: 'timestamptz', name: 'removed_at', nullable: true },
    volumeDestroyedAt: { type: 'timestamptz', name: 'volume_destroyed_at', nullable: true },
    publicHostname: { type: 'varchar', length: 253, name: 'public_hostname', nullable: true },
    backupDestinationId: { type: 'uuid', name: 'backup_destination_id', nullable: true },
    upgradeFromVersion: { type: 'varchar', length: 8, name: 'upgrade_from_version', nullable: true },
    backupCron: { type: 'varchar', length: 100, name: 'backup_cron', nullable: true },
    backupKeep: { type: 'integer', name: 'backup_keep', nullable: true },
    restoreStatus: { type: 'varchar', length: 16, name: 'restore_status', nullable: true },
    restoreReason: { type: 'text', name: 'restore_reason', nullable: true },
    restoredFromBackupId: { type: 'uuid', name: 'restored_from_backup_id', nullable: true },
    volumeObserved: { type: 'jsonb', name: 'volume_observed', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
