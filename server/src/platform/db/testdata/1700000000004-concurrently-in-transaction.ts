/** Fixture for migrations.test.ts: CONCURRENTLY but without `transaction = false` — the checker must refuse it. */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** ConcurrentlyInTransaction1700000000004 forgot to opt out of the transaction. */
export class ConcurrentlyInTransaction1700000000004 implements MigrationInterface {
  async up(qr: QueryRunner): Promise<void> {
    await qr.query('CREATE UNIQUE INDEX CONCURRENTLY widgets_id_name_idx ON widgets (id, name)');
  }
  async down(qr: QueryRunner): Promise<void> {
    await qr.query('DROP INDEX widgets_id_name_idx');
  }
}
