/**
 * DatabaseUpgradeFrom adds `upgrade_from_version` to databases: set when a major version change is recorded, it tells
 * the next deploy to dump the old version, restore into the new volume and keep the old one; cleared once done.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** DatabaseUpgradeFrom1797100000000 adds databases.upgrade_from_version. */
export class DatabaseUpgradeFrom1797100000000 implements MigrationInterface {
  name = 'DatabaseUpgradeFrom1797100000000';

  /** up adds the column. */
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE databases ADD COLUMN upgrade_from_version varchar(8)');
  }

  /** down drops it. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE databases DROP COLUMN upgrade_from_version');
  }
}
