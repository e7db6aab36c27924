/**
 * BackupPruning adds `pruned_at` to backups: a scheduled backup beyond its database's retention count has its object
 * deleted from the destination and is marked pruned (the record, with its verdict, stays for the history).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** BackupPruning1796900000000 adds backups.pruned_at. */
export class BackupPruning1796900000000 implements MigrationInterface {
  name = 'BackupPruning1796900000000';

  /** up adds the column. */
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE backups ADD COLUMN pruned_at timestamptz');
  }

  /** down drops it. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE backups DROP COLUMN pruned_at');
  }
}
