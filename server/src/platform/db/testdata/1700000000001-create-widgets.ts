/** Fixture for migrations.test.ts: creates a table and indexes it in the same migration (safe: the table is new). */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** CreateWidgets1700000000001 creates `widgets` with an index. */
export class CreateWidgets1700000000001 implements MigrationInterface {
  async up(qr: QueryRunner): Promise<void> {
    await qr.query('CREATE TABLE widgets (id bigint PRIMARY KEY, name text NOT NULL, colour text)');
    await qr.query('CREATE INDEX widgets_name_idx ON widgets (name)');
  }
  async down(qr: QueryRunner): Promise<void> {
    await qr.query('DROP TABLE widgets');
  }
}
