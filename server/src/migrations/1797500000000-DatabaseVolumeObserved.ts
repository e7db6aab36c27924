/**
 * DatabaseVolumeObserved adds `databases.volume_observed`: the database's volume as Nomad last reported it at a deploy
 * (volume ID, plugin, node, CapacityBytes), so the API can show the size the plugin really gave next to the one
 * requested, and warn when the plugin does not enforce it. Null until the volume is created.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** DatabaseVolumeObserved1797500000000 adds databases.volume_observed. */
export class DatabaseVolumeObserved1797500000000 implements MigrationInterface {
  name = 'DatabaseVolumeObserved1797500000000';

  /** up adds the column (null for existing databases until their next deploy reads the volume). */
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE databases ADD COLUMN IF NOT EXISTS volume_observed jsonb');
  }

  /** down drops it. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE databases DROP COLUMN IF EXISTS volume_observed');
  }
}
