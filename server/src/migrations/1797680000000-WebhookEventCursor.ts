/**
 * WebhookEventCursor makes webhook deliveries derive from the durable event log (`events`): a one-row cursor (the
 * last event id the dispatcher has turned into deliveries), the ids below it not yet visible when it was advanced
 * (`webhook_event_gaps`, rechecked until they appear or age out), and `webhook_deliveries.event_id` with a unique
 * index on (webhook_id, event_id) so each event yields at most one delivery per webhook. The content-hash
 * `dedupe_key` is no longer written (now nullable; older rows keep theirs). It runs outside a transaction so the
 * index on the existing deliveries table is built CONCURRENTLY; every statement is idempotent.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** WebhookEventCursor1797680000000 adds the dispatcher's cursor, its gap list and deliveries' event ids. */
export class WebhookEventCursor1797680000000 implements MigrationInterface {
  name = 'WebhookEventCursor1797680000000';
  /** transaction is off: CREATE INDEX CONCURRENTLY cannot run in one. */
  transaction = false as const;

  /** up creates the cursor and gap tables, adds the column and builds its unique index. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS webhook_event_cursor (
      id smallint PRIMARY KEY CHECK (id = 1),
      last_event_id bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE IF NOT EXISTS webhook_event_gaps (
      event_id bigint PRIMARY KEY,
      seen_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query('ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS event_id bigint');
    await q.query('ALTER TABLE webhook_deliveries ALTER COLUMN dedupe_key DROP NOT NULL');
    await q.query('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS webhook_deliveries_event_uq ON webhook_deliveries (webhook_id, event_id)');
  }

  /** down drops the index, the column and the tables (deliveries without a dedupe key are deleted first). */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_event_uq');
    await q.query('DELETE FROM webhook_deliveries WHERE dedupe_key IS NULL');
    await q.query('ALTER TABLE webhook_deliveries ALTER COLUMN dedupe_key SET NOT NULL');
    await q.query('ALTER TABLE webhook_deliveries DROP COLUMN IF EXISTS event_id');
    await q.query('DROP TABLE IF EXISTS webhook_event_gaps');
    await q.query('DROP TABLE IF EXISTS webhook_event_cursor');
  }
}
