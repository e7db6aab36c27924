/**
 * RestoreIntoNew records restores of a backup into a NEW database: `databases.restore_status`/`restore_reason`/
 * `restored_from_backup_id` mark a database created by such a restore (restoring, succeeded, or failed with the
 * reason), and `backup_checks.into_new` tells such a restore from one into the backup's own database.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** RestoreIntoNew1797300000000 adds the restore columns of databases and backup_checks.into_new. */
export class RestoreIntoNew1797300000000 implements MigrationInterface {
  name = 'RestoreIntoNew1797300000000';

  /** up adds the columns (nullable or with a default: no table rewrite). */
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE databases ADD COLUMN restore_status varchar(16), ADD COLUMN restore_reason text, ADD COLUMN restored_from_backup_id uuid');
    await q.query('ALTER TABLE backup_checks ADD COLUMN into_new boolean NOT NULL DEFAULT false');
  }

  /** down drops them. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE backup_checks DROP COLUMN into_new');
    await q.query('ALTER TABLE databases DROP COLUMN restore_status, DROP COLUMN restore_reason, DROP COLUMN restored_from_backup_id');
  }
}
