/** Fixture for migrations.test.ts: indexes an existing table the safe way (CONCURRENTLY, outside a transaction). */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** IndexColourConcurrently1700000000002 adds an index on `widgets.colour` without blocking writes. */
export class IndexColourConcurrently1700000000002 implements MigrationInterface {
  transaction = false as const;
  async up(qr: QueryRunner): Promise<void> {
    await qr.query('CREATE INDEX CONCURRENTLY IF NOT EXISTS "widgets_colour_idx" ON widgets (colour)');
  }
  async down(qr: QueryRunner): Promise<void> {
    await qr.query('DROP INDEX CONCURRENTLY widgets_colour_idx');
  }
}
