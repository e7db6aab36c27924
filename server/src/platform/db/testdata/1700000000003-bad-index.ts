/** Fixture for migrations.test.ts: indexes an existing table WITHOUT CONCURRENTLY — the checker must refuse it. */
import { TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** BadIndex1700000000003 blocks writes to `widgets` while its index builds. */
export class BadIndex1700000000003 implements MigrationInterface {
  async up(qr: QueryRunner): Promise<void> {
    await qr.createIndex('widgets', new TableIndex({ name: 'widgets_name_colour_idx', columnNames: ['name', 'colour'] }));
  }
  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex('widgets', 'widgets_name_colour_idx');
  }
}
