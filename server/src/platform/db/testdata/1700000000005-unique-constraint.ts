/** Fixture for migrations.test.ts: a UNIQUE constraint added to an existing table builds an index while locking it. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** UniqueConstraint1700000000005 adds a constraint whose index blocks writes. */
export class UniqueConstraint1700000000005 implements MigrationInterface {
  async up(qr: QueryRunner): Promise<void> {
    await qr.query('ALTER TABLE widgets ADD CONSTRAINT widgets_name_key UNIQUE (name)');
  }
  async down(qr: QueryRunner): Promise<void> {
    await qr.query('ALTER TABLE widgets DROP CONSTRAINT widgets_name_key');
  }
}
