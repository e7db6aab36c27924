/** Fixture for migrations.test.ts: alters `widgets`, so it waits for any lock another session holds on it. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** LockWidgets1700000000006 adds a column to `widgets`. */
export class LockWidgets1700000000006 implements MigrationInterface {
  async up(qr: QueryRunner): Promise<void> {
    await qr.query('ALTER TABLE widgets ADD COLUMN weight integer');
  }
  async down(qr: QueryRunner): Promise<void> {
    await qr.query('ALTER TABLE widgets DROP COLUMN weight');
  }
}
