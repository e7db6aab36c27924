/**
 * What Drover knows of a database's volume size: the size requested, and the `CapacityBytes` Nomad reported for the
 * volume when a deploy created or read it (recorded in `databases.volume_observed`). Nomad's built-in `mkdir` plugin
 * makes a plain directory and reports 0: nothing stops the database from filling its node's disk, and the API says so
 * in `warnings`. A size-enforcing plugin (the `drover-ext4` plugin the Ansible roles install) reports the size it made.
 */
import type { DataSource } from 'typeorm';
import { volumeCapacityWarning } from '@drover/scheduler/databases/jobs.ts';
import { DatabaseEntity, type DatabaseRow, type VolumeObserved } from './database.entity.ts';
import type { VolumeInfo } from './lifecycle.ts';

/** DatabaseVolumeView is the API's view of a database's current volume. */
export interface DatabaseVolumeView {
  /** plugin is the plugin that created the current volume, or the configured one while it is not created yet. */
  plugin: string;
  /** requestedBytes is the size asked of the plugin. */
  requestedBytes: number;
  /** capacityBytes is Nomad's CapacityBytes for the current volume (0: not enforced); null until it is created. */
  capacityBytes: number | null;
  /** nodeId is the node holding the volume; null until it is created. */
  nodeId: string | null;
}

/**
 * volumeView is the current volume of `row` with its warnings: the capacity recorded for the row's CURRENT volume (a
 * recorded major upgrade points at a new, not yet created volume: its capacity is unknown until the deploy), and a
 * warning when that capacity is 0 or below the request, or — not created yet — when `configuredPlugin` is `mkdir`.
 */
export function volumeView(row: DatabaseRow, configuredPlugin: string): { volume: DatabaseVolumeView; warnings: string[] } {
  const requested = Number(row.sizeBytes);
  const seen = row.volumeObserved && row.volumeObserved.volumeId === row.volumeId ? row.volumeObserved : null;
  if (row.volumeDestroyedAt) return { volume: { plugin: seen?.plugin ?? configuredPlugin, requestedBytes: requested, capacityBytes: null, nodeId: null }, warnings: [] };
  if (seen) {
    const w = volumeCapacityWarning(requested, seen.capacityBytes, seen.plugin);
    return { volume: { plugin: seen.plugin, requestedBytes: requested, capacityBytes: seen.capacityBytes, nodeId: seen.nodeId }, warnings: w ? [`size not enforced: ${w}`] : [] };
  }
  const w = configuredPlugin === 'mkdir' ? volumeCapacityWarning(requested, 0, configuredPlugin) : null;
  return { volume: { plugin: configuredPlugin, requestedBytes: requested, capacityBytes: null, nodeId: null }, warnings: w ? [`size not enforced: ${w}`] : [] };
}

/** recordVolume stores the volume a deploy of database `databaseId` created or read, as Nomad reported it. */
export async function recordVolume(dataSource: DataSource, databaseId: string, volumeId: string, v: VolumeInfo, at: Date): Promise<void> {
  const observed: VolumeObserved = { volumeId, nomadId: v.id, plugin: v.plugin, nodeId: v.nodeId, capacityBytes: v.capacityBytes, at: at.toISOString() };
  await dataSource.getRepository(DatabaseEntity).update({ id: databaseId }, { volumeObserved: observed });
}
